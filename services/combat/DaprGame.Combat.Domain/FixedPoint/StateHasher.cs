namespace DaprGame.Combat.Domain.FixedPoint;

/// <summary>
/// A 64-bit FNV-1a-style hash folded one 64-bit word at a time, with a final avalanche. Callers feed state in a
/// defined order (dense arrays by index), never in dictionary order, so equal states hash equal everywhere.
/// </summary>
internal struct StateHasher
{
    private const ulong Offset = 0xCBF29CE484222325UL;
    private const ulong Prime = 0x100000001B3UL;

    private ulong _hash;

    public static StateHasher Create() => new() { _hash = Offset };

    public void Add(long value) => Add((ulong)value);

    public void Add(ulong value)
    {
        // Byte-wise FNV on 8 bytes would cost eight multiplies; one multiply and an xor-shift per word mix enough
        // for a divergence check (it is not a cryptographic hash).
        _hash = (_hash ^ value) * Prime;
        _hash ^= _hash >> 29;
    }

    public readonly ulong Finish()
    {
        var h = _hash;
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return h;
    }
}
