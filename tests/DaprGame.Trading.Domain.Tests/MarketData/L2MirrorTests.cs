using DaprGame.Trading.Domain.MarketData;
using DaprGame.Trading.Domain.Matching;
using DaprGame.Trading.Domain.Tests.Matching;

namespace DaprGame.Trading.Domain.Tests.MarketData;

public sealed class L2MirrorTests
{
    private static BookSnapshot Snapshot(long sequence) =>
        new(sequence, [new DepthLevel(99, 5, 1), new DepthLevel(98, 2, 1)], [new DepthLevel(101, 3, 2)]);

    [Fact]
    public void A_new_mirror_needs_a_snapshot_before_it_applies_anything()
    {
        var mirror = new L2Mirror();

        Assert.True(mirror.NeedsSnapshot);
        Assert.False(mirror.Apply(Side.Buy, 99, 5, 1));
        Assert.False(mirror.ApplyTrade(1));

        mirror.ApplySnapshot(Snapshot(10));
        Assert.False(mirror.NeedsSnapshot);
        Assert.Equal(10, mirror.Sequence);
        Assert.Equal(99, mirror.BestBid);
        Assert.Equal(101, mirror.BestAsk);
    }

    [Fact]
    public void Consecutive_increments_apply_and_a_zero_quantity_removes_the_level()
    {
        var mirror = new L2Mirror();
        mirror.ApplySnapshot(Snapshot(10));

        Assert.True(mirror.ApplyTrade(11));
        Assert.True(mirror.Apply(new DepthIncrement(Side.Sell, 101, 0, 12)));
        Assert.True(mirror.Apply(Side.Buy, 100, 7, 13));

        Assert.Equal(13, mirror.Sequence);
        Assert.Equal(0, mirror.BestAsk);
        Assert.Equal([new PriceLevel(100, 7), new PriceLevel(99, 5)], mirror.Levels(Side.Buy, 2));
        Assert.Equal(2, mirror.QuantityAt(Side.Buy, 98));
        Assert.Equal(0, mirror.QuantityAt(Side.Sell, 101));
    }

    [Fact]
    public void A_skipped_sequence_is_a_gap_until_a_new_snapshot()
    {
        var mirror = new L2Mirror();
        mirror.ApplySnapshot(Snapshot(10));

        Assert.False(mirror.Apply(Side.Buy, 99, 1, 12));
        Assert.True(mirror.NeedsSnapshot);
        Assert.Equal(1, mirror.GapCount);
        Assert.Equal(5, mirror.QuantityAt(Side.Buy, 99));
        Assert.False(mirror.Apply(Side.Buy, 99, 1, 11));

        mirror.ApplySnapshot(Snapshot(20));
        Assert.True(mirror.Apply(Side.Buy, 99, 1, 21));
        Assert.False(mirror.ApplyTrade(23));
        Assert.Equal(2, mirror.GapCount);
    }

    [Fact]
    public void Increments_already_in_the_snapshot_are_ignored()
    {
        var mirror = new L2Mirror();
        mirror.ApplySnapshot(Snapshot(10));

        Assert.True(mirror.Apply(Side.Buy, 99, 1, 9));
        Assert.True(mirror.Apply(Side.Buy, 99, 1, 10));

        Assert.Equal(5, mirror.QuantityAt(Side.Buy, 99));
        Assert.False(mirror.NeedsSnapshot);
    }

    [Fact]
    public void A_mirror_fed_by_the_engine_matches_its_snapshot_and_recovers_from_a_lost_message()
    {
        var book = new OrderBook(new BookOptions());
        var mirror = new L2Mirror();
        mirror.ApplySnapshot(book.Snapshot(int.MaxValue));
        var random = new Random(5);
        var lost = false;
        for (var id = 1; id <= 2_000; id++)
        {
            var recorder = new Recorder();
            book.Submit(new NewOrder(id, random.Next(20), (Side)random.Next(2), random.Next(4) == 0 ? OrderType.ImmediateOrCancel : OrderType.Limit,
                100 + random.Next(-10, 11), random.Next(1, 10)), ref recorder);
            if (random.Next(3) == 0)
            {
                book.Cancel(id - random.Next(50), ref recorder);
            }
            foreach (var e in recorder.Events)
            {
                if (id == 1_000 && !lost && e is DepthChanged)
                {
                    lost = true;
                    continue;
                }
                var applied = e switch
                {
                    Filled f => mirror.ApplyTrade(f.Fill.Sequence),
                    DepthChanged d => mirror.Apply(d.Side, d.Price, d.Total, d.Sequence),
                    _ => true,
                };
                if (!applied)
                {
                    mirror.ApplySnapshot(book.Snapshot(int.MaxValue));
                }
            }
        }

        var snapshot = book.Snapshot(int.MaxValue);
        Assert.Equal(1, mirror.GapCount);
        Assert.Equal(book.Sequence, mirror.Sequence);
        Assert.Equal(snapshot.Bids.Select(l => new PriceLevel(l.Price, l.Quantity)), mirror.Levels(Side.Buy, int.MaxValue));
        Assert.Equal(snapshot.Asks.Select(l => new PriceLevel(l.Price, l.Quantity)), mirror.Levels(Side.Sell, int.MaxValue));
    }
}
