namespace DaprGame.Trading.Domain.MarketData;

/// <summary>
/// The most recent trades of one instrument, oldest first, in a fixed-size ring: adding to a full tape drops the
/// oldest trade, so memory is bounded however long the book runs. Not thread-safe (one owner, like the book).
/// </summary>
public sealed class TradeTape
{
    private readonly Trade[] _ring;
    private int _start;
    private int _count;

    /// <param name="capacity">How many trades are kept (at least 1).</param>
    public TradeTape(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new Trade[capacity];
    }

    /// <summary>How many trades the tape keeps at most.</summary>
    public int Capacity => _ring.Length;

    /// <summary>How many trades it holds now.</summary>
    public int Count => _count;

    /// <summary>The sequence number of the newest trade, 0 when empty.</summary>
    public long LastSequence => _count == 0 ? 0 : this[_count - 1].Sequence;

    /// <summary>The trade <paramref name="index"/> places from the oldest kept.</summary>
    public Trade this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            return _ring[(_start + index) % _ring.Length];
        }
    }

    /// <summary>Appends a trade, dropping the oldest when full. Trades are expected in sequence order.</summary>
    public void Add(in Trade trade)
    {
        if (_count == _ring.Length)
        {
            _ring[_start] = trade;
            _start = (_start + 1) % _ring.Length;
        }
        else
        {
            _ring[(_start + _count) % _ring.Length] = trade;
            _count++;
        }
    }

    /// <summary>The newest <paramref name="max"/> trades (fewer if the tape holds fewer), oldest first.</summary>
    public Trade[] Recent(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        var n = Math.Min(max, _count);
        var result = new Trade[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = this[_count - n + i];
        }
        return result;
    }

    /// <summary>The kept trades with a sequence number above <paramref name="sequence"/>, oldest first (for a client catching up).</summary>
    public Trade[] Since(long sequence)
    {
        var first = _count;
        while (first > 0 && this[first - 1].Sequence > sequence)
        {
            first--;
        }
        var result = new Trade[_count - first];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = this[first + i];
        }
        return result;
    }
}
