using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.MarketData;

/// <summary>
/// OHLCV candles of one instrument at 1 minute, 1 hour and 1 day, built from trades with the times the caller
/// passes in (the domain has no clock). Each interval keeps a bounded number of its newest buckets.
/// </summary>
/// <remarks>
/// Buckets are aligned to UTC (a day starts at 00:00 UTC) and only exist when they hold a trade: a quiet minute
/// has no candle. Trades are taken in the order they are added (the book's sequence order), which decides open and
/// close; a trade stamped earlier than the newest bucket (a clock step back) counts in the newest bucket, so
/// candles never rewrite a bucket that has been superseded.
/// </remarks>
public sealed class Candles
{
    private readonly Series[] _series;

    /// <param name="minuteRetention">Minute candles kept (default one day).</param>
    /// <param name="hourRetention">Hour candles kept (default 30 days).</param>
    /// <param name="dayRetention">Day candles kept (default two years).</param>
    public Candles(int minuteRetention = 1440, int hourRetention = 720, int dayRetention = 730)
    {
        _series =
        [
            new Series(TimeSpan.TicksPerMinute, minuteRetention),
            new Series(TimeSpan.TicksPerHour, hourRetention),
            new Series(TimeSpan.TicksPerDay, dayRetention),
        ];
    }

    /// <summary>Adds a trade to the bucket of each interval that contains <paramref name="time"/>.</summary>
    public void Add(long price, long quantity, DateTimeOffset time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(price, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(quantity, 1);
        foreach (var series in _series)
        {
            series.Add(price, quantity, time.UtcTicks);
        }
    }

    /// <summary>Adds a fill's price and quantity.</summary>
    public void Add(in Fill fill, DateTimeOffset time) => Add(fill.Price, fill.Quantity, time);

    /// <summary>How many candles an interval holds now.</summary>
    public int Count(CandleInterval interval) => Get(interval).Count;

    /// <summary>The candles whose bucket starts in [<paramref name="from"/>, <paramref name="to"/>), oldest first.</summary>
    public Candle[] Query(CandleInterval interval, DateTimeOffset from, DateTimeOffset to) => Get(interval).Query(from.UtcTicks, to.UtcTicks);

    /// <summary>The newest candle of an interval, if any trade was added.</summary>
    public bool TryGetLatest(CandleInterval interval, out Candle candle) => Get(interval).TryGetLatest(out candle);

    private Series Get(CandleInterval interval) => interval switch
    {
        CandleInterval.Minute => _series[0],
        CandleInterval.Hour => _series[1],
        CandleInterval.Day => _series[2],
        _ => throw new ArgumentOutOfRangeException(nameof(interval), interval, "not a defined interval"),
    };

    /// <summary>One interval's candles in a ring, oldest first, bucket start strictly increasing.</summary>
    private sealed class Series
    {
        private readonly long _width;
        private readonly Candle[] _ring;
        private int _start;
        private int _count;

        public Series(long width, int retention)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(retention, 1);
            _width = width;
            _ring = new Candle[retention];
        }

        public int Count => _count;

        public void Add(long price, long quantity, long utcTicks)
        {
            var bucket = utcTicks - (utcTicks % _width);
            if (_count > 0)
            {
                ref var last = ref _ring[(_start + _count - 1) % _ring.Length];
                if (bucket <= last.OpenTime.UtcTicks)
                {
                    last = last with
                    {
                        High = Math.Max(last.High, price),
                        Low = Math.Min(last.Low, price),
                        Close = price,
                        Volume = last.Volume + quantity,
                        TradeCount = last.TradeCount + 1,
                    };
                    return;
                }
            }
            var candle = new Candle(new DateTimeOffset(bucket, TimeSpan.Zero), price, price, price, price, quantity, 1);
            if (_count == _ring.Length)
            {
                _ring[_start] = candle;
                _start = (_start + 1) % _ring.Length;
            }
            else
            {
                _ring[(_start + _count) % _ring.Length] = candle;
                _count++;
            }
        }

        public Candle[] Query(long fromTicks, long toTicks)
        {
            var first = LowerBound(fromTicks);
            var end = LowerBound(toTicks);
            if (end <= first)
            {
                return [];
            }
            var result = new Candle[end - first];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = At(first + i);
            }
            return result;
        }

        public bool TryGetLatest(out Candle candle)
        {
            candle = _count == 0 ? default : At(_count - 1);
            return _count > 0;
        }

        private Candle At(int index) => _ring[(_start + index) % _ring.Length];

        /// <summary>The first index whose bucket starts at or after <paramref name="ticks"/>.</summary>
        private int LowerBound(long ticks)
        {
            int lo = 0, hi = _count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (At(mid).OpenTime.UtcTicks < ticks)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            return lo;
        }
    }
}
