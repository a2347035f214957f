using System.Runtime.CompilerServices;

namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// Order id → order slot, open addressing with linear probing and backward-shift deletion (no tombstones, so a
/// book that churns through millions of ids never degrades). Keys and values sit side by side in one entry so a
/// probe touches one cache line; the table stays at most half full, so a 10,000-order book's map is 512 KB. Size is
/// what counts: the same book with a map sized for 65,536 orders (2 MB) ran the benchmark at half the speed.
/// </summary>
internal sealed class OrderIdMap
{
    private Entry[] _entries;
    private int _mask;
    private int _shift;
    private int _count;

    public OrderIdMap(int capacity)
    {
        var size = 16;
        while (size < capacity * 2)
        {
            size <<= 1;
        }
        _entries = new Entry[size];
        _mask = size - 1;
        _shift = 64 - System.Numerics.BitOperations.Log2((uint)size);
    }

    public int Count => _count;

    /// <summary>The slot of <paramref name="key"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Get(long key)
    {
        var entries = _entries;
        var i = Home(key);
        while (true)
        {
            ref var e = ref entries[i];
            if (e.SlotPlusOne == 0)
            {
                return -1;
            }
            if (e.Key == key)
            {
                return e.SlotPlusOne - 1;
            }
            i = (i + 1) & _mask;
        }
    }

    /// <summary>Adds a key known to be absent.</summary>
    public void Add(long key, int slot)
    {
        if ((_count + 1) * 2 > _entries.Length)
        {
            Grow();
        }
        Insert(_entries, key, slot + 1);
        _count++;
    }

    /// <summary>Removes a key known to be present.</summary>
    public void Remove(long key)
    {
        var entries = _entries;
        var i = Home(key);
        while (entries[i].Key != key || entries[i].SlotPlusOne == 0)
        {
            i = (i + 1) & _mask;
        }
        // Backward shift: pull later entries of the same probe run into the hole so lookups never need tombstones.
        var j = i;
        while (true)
        {
            j = (j + 1) & _mask;
            if (entries[j].SlotPlusOne == 0)
            {
                break;
            }
            var home = Home(entries[j].Key);
            // Entry j may move to i only if its home is not cyclically within (i, j].
            var stays = i <= j ? i < home && home <= j : i < home || home <= j;
            if (!stays)
            {
                entries[i] = entries[j];
                i = j;
            }
        }
        entries[i] = default;
        _count--;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> _shift);

    private void Insert(Entry[] entries, long key, int slotPlusOne)
    {
        var i = Home(key);
        while (entries[i].SlotPlusOne != 0)
        {
            i = (i + 1) & _mask;
        }
        entries[i] = new Entry(key, slotPlusOne);
    }

    private void Grow()
    {
        var old = _entries;
        var size = old.Length * 2;
        _entries = new Entry[size];
        _mask = size - 1;
        _shift--;
        foreach (var e in old)
        {
            if (e.SlotPlusOne != 0)
            {
                Insert(_entries, e.Key, e.SlotPlusOne);
            }
        }
    }

    /// <summary>A zeroed entry is empty, so a fresh array needs no fill.</summary>
    private readonly record struct Entry(long Key, int SlotPlusOne);
}
