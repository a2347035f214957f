using DaprGame.Trading.Domain.MarketData;
using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.Tests.MarketData;

public sealed class TradeTapeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static Trade TradeAt(long sequence) => new(sequence, 100 + sequence, 1, Side.Buy, T0.AddSeconds(sequence));

    [Fact]
    public void A_full_tape_keeps_only_the_newest_trades_oldest_first()
    {
        var tape = new TradeTape(3);
        for (var s = 1; s <= 5; s++)
        {
            tape.Add(TradeAt(s));
        }

        Assert.Equal(3, tape.Count);
        Assert.Equal(3, tape.Capacity);
        Assert.Equal([3L, 4L, 5L], Enumerable.Range(0, tape.Count).Select(i => tape[i].Sequence));
        Assert.Equal(5, tape.LastSequence);
        Assert.Throws<ArgumentOutOfRangeException>(() => tape[3]);
    }

    [Fact]
    public void Recent_and_since_return_the_newest_trades_in_order()
    {
        var tape = new TradeTape(4);
        Assert.Empty(tape.Recent(2));
        Assert.Equal(0, tape.LastSequence);
        for (var s = 1; s <= 6; s++)
        {
            tape.Add(TradeAt(s * 10));
        }

        Assert.Equal([50L, 60L], tape.Recent(2).Select(t => t.Sequence));
        Assert.Equal([30L, 40L, 50L, 60L], tape.Recent(10).Select(t => t.Sequence));
        Assert.Equal([50L, 60L], tape.Since(40).Select(t => t.Sequence));
        Assert.Equal([30L, 40L, 50L, 60L], tape.Since(0).Select(t => t.Sequence));
        Assert.Empty(tape.Since(60));
    }

    [Fact]
    public void A_trade_is_the_public_part_of_a_fill()
    {
        var fill = new Fill(9, 1, 2, 3, 4, Side.Sell, 250, 7, true, false);

        Assert.Equal(new Trade(9, 250, 7, Side.Sell, T0), Trade.From(fill, T0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TradeTape(0));
    }
}
