using System.Numerics;

namespace DaprGame.Combat.Domain.FixedPoint;

/// <summary>
/// A Q16.16 fixed-point number in an <see cref="int"/>: 16 integer bits (±32,767 world units) and 16 fraction bits.
/// Every operation is integer arithmetic, so results are identical on every machine; multiplication and division
/// go through a 64-bit intermediate and truncate toward zero.
/// </summary>
internal readonly record struct Fix(int Raw) : IComparable<Fix>
{
    public const int FractionBits = 16;
    public const int OneRaw = 1 << FractionBits;

    public static readonly Fix Zero;
    public static readonly Fix One = new(OneRaw);

    public static Fix FromInt(int value) => new(value << FractionBits);

    /// <summary><paramref name="numerator"/>/<paramref name="denominator"/> as a fixed-point number.</summary>
    public static Fix Ratio(int numerator, int denominator) => new((int)(((long)numerator << FractionBits) / denominator));

    public int Floor => Raw >> FractionBits;

    public static Fix operator +(Fix a, Fix b) => new(a.Raw + b.Raw);

    public static Fix operator -(Fix a, Fix b) => new(a.Raw - b.Raw);

    public static Fix operator -(Fix a) => new(-a.Raw);

    public static Fix operator *(Fix a, Fix b) => new((int)(((long)a.Raw * b.Raw) >> FractionBits));

    public static Fix operator *(Fix a, int b) => new(a.Raw * b);

    public static Fix operator /(Fix a, Fix b) => new((int)(((long)a.Raw << FractionBits) / b.Raw));

    public static Fix operator /(Fix a, int b) => new(a.Raw / b);

    public static bool operator <(Fix a, Fix b) => a.Raw < b.Raw;

    public static bool operator >(Fix a, Fix b) => a.Raw > b.Raw;

    public static bool operator <=(Fix a, Fix b) => a.Raw <= b.Raw;

    public static bool operator >=(Fix a, Fix b) => a.Raw >= b.Raw;

    public int CompareTo(Fix other) => Raw.CompareTo(other.Raw);

    public static Fix Abs(Fix a) => new(Math.Abs(a.Raw));

    public static Fix Min(Fix a, Fix b) => a.Raw <= b.Raw ? a : b;

    public static Fix Max(Fix a, Fix b) => a.Raw >= b.Raw ? a : b;

    public static Fix Clamp(Fix value, Fix min, Fix max) => value.Raw < min.Raw ? min : value.Raw > max.Raw ? max : value;

    /// <summary>The square root (negative input gives zero), exact to the last fraction bit (rounded down).</summary>
    public static Fix Sqrt(Fix a) => a.Raw <= 0 ? Zero : new((int)IntegerMath.Sqrt((ulong)a.Raw << FractionBits));

    public override string ToString() => (Raw / (decimal)OneRaw).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Integer helpers the fixed-point types share.</summary>
internal static class IntegerMath
{
    /// <summary>⌊√<paramref name="value"/>⌋, by Newton's method on integers (no floating point).</summary>
    public static ulong Sqrt(ulong value)
    {
        if (value < 2)
        {
            return value;
        }
        var x = 1UL << ((64 - BitOperations.LeadingZeroCount(value) + 1) / 2);
        while (true)
        {
            var y = (x + value / x) >> 1;
            if (y >= x)
            {
                return x;
            }
            x = y;
        }
    }

    /// <summary>
    /// Scales (<paramref name="x"/>, <paramref name="y"/>) to length <paramref name="length"/> (each axis rounded
    /// toward zero, so the result is never longer), without angles: the vector is first shifted up to about 2³⁰ so
    /// the integer square root of its squared length is exact to a billionth, then divided by it. Zero stays zero.
    /// </summary>
    public static (int X, int Y) Normalize(long x, long y, int length)
    {
        if (x == 0 && y == 0)
        {
            return (0, 0);
        }
        var largest = Math.Max(Math.Abs(x), Math.Abs(y));
        var shift = BitOperations.LeadingZeroCount((ulong)largest) - 34;
        if (shift > 0)
        {
            x <<= shift;
            y <<= shift;
        }
        else if (shift < 0)
        {
            x >>= -shift;
            y >>= -shift;
        }
        var magnitude = (long)Sqrt((ulong)(x * x + y * y));
        return ((int)(x * length / magnitude), (int)(y * length / magnitude));
    }

    /// <summary>The vector unchanged when no longer than <paramref name="length"/>, else scaled down to it.</summary>
    public static (int X, int Y) ClampLength(long x, long y, int length)
    {
        var squared = x * x + y * y;
        return squared <= (long)length * length ? ((int)x, (int)y) : Normalize(x, y, length);
    }
}
