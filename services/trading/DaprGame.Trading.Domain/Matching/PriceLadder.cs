using System.Runtime.CompilerServices;

namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// The price levels of one side, sorted so that the best level is the last element: keys are the price for bids
/// and the negated price for asks, ascending. Most activity is at or near the best price, so taking the best level
/// and removing it are O(1), and finding a level scans a few keys from the end before falling back to a binary
/// search; inserting shifts only the levels better than the new one. A parallel array holds each level's slot in
/// the book's level pool. Chosen over a tree because a tree allocates a node per level and chases pointers.
/// </summary>
internal sealed class PriceLadder
{
    private const int LinearScan = 8;

    private long[] _keys;
    private int[] _levels;
    private int _count;

    public PriceLadder(int capacity)
    {
        capacity = Math.Max(capacity, 16);
        _keys = new long[capacity];
        _levels = new int[capacity];
    }

    public int Count => _count;

    /// <summary>The best level's key (only when <see cref="Count"/> &gt; 0).</summary>
    public long BestKey
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _keys[_count - 1];
    }

    /// <summary>The best level's pool slot (only when <see cref="Count"/> &gt; 0).</summary>
    public int BestLevel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _levels[_count - 1];
    }

    /// <summary>The pool slot of the level <paramref name="rank"/> places from the best (0 = best).</summary>
    public int LevelByRank(int rank) => _levels[_count - 1 - rank];

    /// <summary>The index of <paramref name="key"/>, or the bitwise complement of where it would be inserted.</summary>
    public int Search(long key)
    {
        var keys = _keys;
        var i = _count - 1;
        var stop = Math.Max(0, _count - LinearScan);
        for (; i >= stop; i--)
        {
            var k = keys[i];
            if (k == key)
            {
                return i;
            }
            if (k < key)
            {
                return ~(i + 1);
            }
        }
        // Every key from stop on is greater: search below it.
        return Array.BinarySearch(keys, 0, stop, key);
    }

    public int LevelAt(int index) => _levels[index];

    public long KeyAt(int index) => _keys[index];

    public void InsertAt(int index, long key, int level)
    {
        if (_count == _keys.Length)
        {
            Array.Resize(ref _keys, _count * 2);
            Array.Resize(ref _levels, _count * 2);
        }
        var tail = _count - index;
        if (tail > 0)
        {
            Array.Copy(_keys, index, _keys, index + 1, tail);
            Array.Copy(_levels, index, _levels, index + 1, tail);
        }
        _keys[index] = key;
        _levels[index] = level;
        _count++;
    }

    public void RemoveAt(int index)
    {
        _count--;
        var tail = _count - index;
        if (tail > 0)
        {
            Array.Copy(_keys, index + 1, _keys, index, tail);
            Array.Copy(_levels, index + 1, _levels, index, tail);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RemoveBest() => _count--;
}
