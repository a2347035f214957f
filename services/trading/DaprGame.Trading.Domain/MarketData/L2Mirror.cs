using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.MarketData;

/// <summary>
/// A consumer's copy of a book's L2 depth, kept from a <see cref="BookSnapshot"/> and the sequenced increments
/// that follow it. The book numbers fills and depth changes with one counter, so the consumer passes both
/// (<see cref="Apply(in DepthIncrement)"/> for depth, <see cref="ApplyTrade"/> for a fill); a skipped number is a gap.
/// </summary>
/// <remarks>
/// A new mirror and a mirror that saw a gap need a snapshot (<see cref="NeedsSnapshot"/>): until one is applied,
/// every increment is refused. A number at or below <see cref="Sequence"/> is already included (a duplicate or
/// an increment older than the snapshot) and is ignored. Not thread-safe.
/// </remarks>
public sealed class L2Mirror
{
    private readonly SortedDictionary<long, long> _bids = new(Comparer<long>.Create(static (a, b) => b.CompareTo(a)));
    private readonly SortedDictionary<long, long> _asks = new();

    /// <summary>The last sequence number applied (-1 before the first snapshot).</summary>
    public long Sequence { get; private set; } = -1;

    /// <summary>True until a snapshot is applied, and again after a gap.</summary>
    public bool NeedsSnapshot { get; private set; } = true;

    /// <summary>How many gaps were detected since the mirror was created.</summary>
    public int GapCount { get; private set; }

    /// <summary>The highest bid price, 0 when there is none.</summary>
    public long BestBid => First(_bids);

    /// <summary>The lowest ask price, 0 when there is none.</summary>
    public long BestAsk => First(_asks);

    /// <summary>Replaces the whole mirror with <paramref name="snapshot"/> and clears <see cref="NeedsSnapshot"/>.</summary>
    public void ApplySnapshot(BookSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _bids.Clear();
        _asks.Clear();
        foreach (var level in snapshot.Bids)
        {
            _bids[level.Price] = level.Quantity;
        }
        foreach (var level in snapshot.Asks)
        {
            _asks[level.Price] = level.Quantity;
        }
        Sequence = snapshot.Sequence;
        NeedsSnapshot = false;
    }

    /// <summary>Applies a depth increment.</summary>
    /// <returns>False when it was not applied because a snapshot is needed (now or already).</returns>
    public bool Apply(in DepthIncrement increment)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(increment.Price, 1, nameof(increment));
        ArgumentOutOfRangeException.ThrowIfNegative(increment.Quantity, nameof(increment));
        var levels = increment.Side switch
        {
            Side.Buy => _bids,
            Side.Sell => _asks,
            _ => throw new ArgumentOutOfRangeException(nameof(increment), increment.Side, "not a defined side"),
        };
        switch (Advance(increment.Sequence))
        {
            case Step.Stale:
                return true;
            case Step.Gap:
                return false;
        }
        if (increment.Quantity == 0)
        {
            levels.Remove(increment.Price);
        }
        else
        {
            levels[increment.Price] = increment.Quantity;
        }
        return true;
    }

    /// <summary>Applies the depth increment given field by field (the shape of <see cref="IBookListener.OnDepthChanged"/>).</summary>
    public bool Apply(Side side, long price, long quantity, long sequence) => Apply(new DepthIncrement(side, price, quantity, sequence));

    /// <summary>Accounts for a fill's sequence number: fills change no depth by themselves (the level's increment follows).</summary>
    /// <returns>False when a snapshot is needed.</returns>
    public bool ApplyTrade(long sequence) => Advance(sequence) != Step.Gap;

    /// <summary>The total quantity at a price, 0 when there is no level.</summary>
    public long QuantityAt(Side side, long price) => (side == Side.Buy ? _bids : _asks).GetValueOrDefault(price);

    /// <summary>Up to <paramref name="depth"/> levels of one side, best first.</summary>
    public PriceLevel[] Levels(Side side, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var levels = side == Side.Buy ? _bids : _asks;
        var result = new PriceLevel[Math.Min(depth, levels.Count)];
        var i = 0;
        foreach (var (price, quantity) in levels)
        {
            if (i == result.Length)
            {
                break;
            }
            result[i++] = new PriceLevel(price, quantity);
        }
        return result;
    }

    private Step Advance(long sequence)
    {
        if (NeedsSnapshot)
        {
            return Step.Gap;
        }
        if (sequence <= Sequence)
        {
            return Step.Stale;
        }
        if (sequence != Sequence + 1)
        {
            NeedsSnapshot = true;
            GapCount++;
            return Step.Gap;
        }
        Sequence = sequence;
        return Step.Next;
    }

    private static long First(SortedDictionary<long, long> levels)
    {
        foreach (var price in levels.Keys)
        {
            return price;
        }
        return 0;
    }

    private enum Step
    {
        Next,
        Stale,
        Gap,
    }
}
