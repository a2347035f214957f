using DaprGame.Trading.Domain.MarketData;

namespace DaprGame.Trading.Domain.Tests.MarketData;

public sealed class CandlesTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Trades_in_one_minute_make_one_candle_with_open_high_low_close_and_volume()
    {
        var candles = new Candles();
        candles.Add(100, 2, Noon.AddSeconds(1));
        candles.Add(105, 1, Noon.AddSeconds(20));
        candles.Add(98, 3, Noon.AddSeconds(40));
        candles.Add(101, 4, Noon.AddSeconds(59.999));

        Assert.True(candles.TryGetLatest(CandleInterval.Minute, out var minute));
        Assert.Equal(new Candle(Noon, 100, 105, 98, 101, 10, 4), minute);
        Assert.Equal(1, candles.Count(CandleInterval.Minute));
    }

    [Fact]
    public void Bucket_boundaries_start_a_new_candle_exactly_on_the_minute_hour_and_utc_day()
    {
        var candles = new Candles();
        candles.Add(100, 1, Noon.AddTicks(-1));
        candles.Add(101, 1, Noon);
        candles.Add(102, 1, Noon.AddMinutes(59).AddSeconds(59));
        candles.Add(103, 1, Noon.AddHours(1));
        // 01:30 at +02:00 is 23:30 UTC the day before the next: it belongs to the 30th, not the 1st.
        candles.Add(104, 1, new DateTimeOffset(2026, 12, 1, 1, 30, 0, TimeSpan.FromHours(2)));
        candles.Add(105, 1, new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

        var minutes = candles.Query(CandleInterval.Minute, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        var hours = candles.Query(CandleInterval.Hour, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        var days = candles.Query(CandleInterval.Day, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);

        Assert.Equal([Noon.AddMinutes(-1), Noon, Noon.AddMinutes(59), Noon.AddHours(1), Noon.AddHours(11).AddMinutes(30), Noon.AddHours(12)],
            minutes.Select(c => c.OpenTime));
        Assert.Equal([Noon.AddHours(-1), Noon, Noon.AddHours(1), Noon.AddHours(11), Noon.AddHours(12)], hours.Select(c => c.OpenTime));
        Assert.Equal([(Noon.AddHours(-12), 5L, 104L), (Noon.AddHours(12), 1L, 105L)], days.Select(c => (c.OpenTime, c.Volume, c.Close)));
        Assert.Equal(TimeSpan.Zero, days[0].OpenTime.Offset);
    }

    [Fact]
    public void A_query_returns_buckets_starting_in_a_half_open_range()
    {
        var candles = new Candles();
        for (var m = 0; m < 10; m++)
        {
            candles.Add(100 + m, 1, Noon.AddMinutes(m).AddSeconds(30));
        }

        var range = candles.Query(CandleInterval.Minute, Noon.AddMinutes(3), Noon.AddMinutes(6));

        Assert.Equal([103L, 104L, 105L], range.Select(c => c.Open));
        Assert.Empty(candles.Query(CandleInterval.Minute, Noon.AddMinutes(6), Noon.AddMinutes(6)));
        Assert.Equal([100L], candles.Query(CandleInterval.Minute, Noon.AddHours(-1), Noon.AddSeconds(1)).Select(c => c.Open));
    }

    [Fact]
    public void Each_interval_keeps_a_bounded_number_of_candles()
    {
        var candles = new Candles(minuteRetention: 3, hourRetention: 2, dayRetention: 1);
        for (var m = 0; m < 200; m++)
        {
            candles.Add(100 + m, 1, Noon.AddMinutes(m));
        }

        Assert.Equal([297L, 298L, 299L], candles.Query(CandleInterval.Minute, DateTimeOffset.MinValue, DateTimeOffset.MaxValue).Select(c => c.Open));
        Assert.Equal(2, candles.Count(CandleInterval.Hour));
        Assert.Equal(1, candles.Count(CandleInterval.Day));
        Assert.Equal(200, candles.Query(CandleInterval.Day, Noon.AddDays(-1), Noon.AddDays(1)).Single().Volume);
    }

    [Fact]
    public void A_trade_stamped_before_the_newest_bucket_counts_in_the_newest_bucket()
    {
        var candles = new Candles();
        candles.Add(100, 1, Noon.AddMinutes(5));
        candles.Add(90, 2, Noon.AddMinutes(4));

        var minutes = candles.Query(CandleInterval.Minute, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);

        Assert.Equal(new Candle(Noon.AddMinutes(5), 100, 100, 90, 90, 3, 2), Assert.Single(minutes));
    }

    [Fact]
    public void No_candle_before_the_first_trade_and_bad_input_is_refused()
    {
        var candles = new Candles();
        Assert.False(candles.TryGetLatest(CandleInterval.Day, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => candles.Add(100, 0, Noon));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Candles(minuteRetention: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => candles.Count((CandleInterval)3));
    }
}
