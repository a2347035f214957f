namespace DaprGame.Combat.Domain.FixedPoint;

/// <summary>
/// xoshiro256** seeded through SplitMix64: the match's only source of randomness. Its four words are part of the
/// simulation state (hashed, replayed), so the same seed and inputs draw the same numbers on every machine.
/// </summary>
internal struct DeterministicRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public DeterministicRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    public readonly ulong S0 => _s0;

    public readonly ulong S1 => _s1;

    public readonly ulong S2 => _s2;

    public readonly ulong S3 => _s3;

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A number in [0, <paramref name="bound"/>), by Lemire's multiply-shift with rejection (no modulo bias).</summary>
    public int Next(int bound)
    {
        if (bound <= 1)
        {
            return 0;
        }
        var threshold = (uint)-bound % (uint)bound;
        while (true)
        {
            var product = (ulong)(uint)(NextUInt64() >> 32) * (uint)bound;
            if ((uint)product >= threshold)
            {
                return (int)(product >> 32);
            }
        }
    }

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Range(int min, int max) => min + Next(max - min + 1);

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
