using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.Tests.Matching;

public sealed class OrderBookTests
{
    private static OrderBook NewBook(SelfTradePrevention selfTrade = SelfTradePrevention.CancelNewest) =>
        new(new BookOptions(selfTrade, MaxPrice: 1_000_000, MaxQuantity: 1_000_000, InitialCapacity: 4));

    private static List<BookEvent> Submit(OrderBook book, long id, long owner, Side side, OrderType type, long price, long quantity,
        RejectReason expected = RejectReason.None)
    {
        var recorder = new Recorder();
        Assert.Equal(expected, book.Submit(new NewOrder(id, owner, side, type, price, quantity), ref recorder));
        return recorder.Events;
    }

    private static List<BookEvent> Limit(OrderBook book, long id, long owner, Side side, long price, long quantity) =>
        Submit(book, id, owner, side, OrderType.Limit, price, quantity);

    private static List<BookEvent> Cancel(OrderBook book, long id, RejectReason expected = RejectReason.None)
    {
        var recorder = new Recorder();
        Assert.Equal(expected, book.Cancel(id, ref recorder));
        return recorder.Events;
    }

    private static List<BookEvent> Replace(OrderBook book, long id, long price, long quantity, RejectReason expected = RejectReason.None)
    {
        var recorder = new Recorder();
        Assert.Equal(expected, book.Replace(id, price, quantity, ref recorder));
        return recorder.Events;
    }

    private static long[] Queue(OrderBook book, Side side, long price) =>
        [.. book.ExportOrders().Where(o => o.Side == side && o.Price == price).Select(o => o.OrderId)];

    private static Fill[] Fills(List<BookEvent> events) => [.. events.OfType<Filled>().Select(f => f.Fill)];

    [Fact]
    public void A_limit_order_that_crosses_nothing_rests_and_publishes_its_level()
    {
        var book = NewBook();
        var order = new NewOrder(1, 7, Side.Buy, OrderType.Limit, 100, 5);
        var recorder = new Recorder();

        Assert.Equal(RejectReason.None, book.Submit(order, ref recorder));

        Assert.Equal<BookEvent>([new Accepted(order), new Rested(1, Side.Buy, 100, 5), new DepthChanged(Side.Buy, 100, 5, 1)], recorder.Events);
        Assert.Equal(100, book.BestBid);
        Assert.Equal(0, book.BestAsk);
        Assert.Equal(1, book.OrderCount);
        Assert.Equal(1, book.Sequence);
        Assert.True(book.TryGetOrder(1, out var resting));
        Assert.Equal(new RestingOrder(1, 7, Side.Buy, 100, 5), resting);
    }

    [Fact]
    public void Better_price_matches_first_then_earlier_arrival_at_the_same_price()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 101, 1);
        Limit(book, 2, 2, Side.Sell, 100, 1);
        Limit(book, 3, 3, Side.Sell, 100, 1);

        var fills = Fills(Submit(book, 4, 9, Side.Buy, OrderType.Limit, 101, 3));

        Assert.Equal([2L, 3L, 1L], fills.Select(f => f.MakerOrderId));
        Assert.Equal([100L, 100L, 101L], fills.Select(f => f.Price));
        Assert.Equal(0, book.OrderCount);
    }

    [Fact]
    public void A_crossing_limit_order_fills_at_the_makers_price_and_rests_the_remainder()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 3);

        var events = Limit(book, 2, 2, Side.Buy, 105, 5);

        Assert.Equal<BookEvent>(
        [
            new Accepted(new NewOrder(2, 2, Side.Buy, OrderType.Limit, 105, 5)),
            new Filled(new Fill(2, 1, 1, 2, 2, Side.Buy, 100, 3, MakerDone: true, TakerDone: false)),
            new DepthChanged(Side.Sell, 100, 0, 3),
            new Rested(2, Side.Buy, 105, 2),
            new DepthChanged(Side.Buy, 105, 2, 4),
        ], events);
        Assert.Equal(105, book.BestBid);
        Assert.Equal(0, book.BestAsk);
    }

    [Fact]
    public void Sweeping_levels_numbers_every_fill_and_publishes_one_depth_change_per_level()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 2);
        Limit(book, 2, 2, Side.Sell, 100, 2);
        Limit(book, 3, 3, Side.Sell, 101, 5);
        var before = book.Sequence;

        var events = Limit(book, 4, 4, Side.Buy, 101, 6);

        var numbered = events.Select(e => e switch
        {
            Filled f => (Kind: "fill", f.Fill.Sequence),
            DepthChanged d => (Kind: $"depth {d.Price}={d.Total}", d.Sequence),
            _ => (Kind: "", Sequence: 0L),
        }).Where(x => x.Kind.Length > 0).ToList();
        Assert.Equal(
        [
            ("fill", before + 1), ("fill", before + 2), ("depth 100=0", before + 3),
            ("fill", before + 4), ("depth 101=3", before + 5),
        ], numbered);
        Assert.True(Fills(events)[^1].TakerDone);
        Assert.Equal(101, book.BestAsk);
    }

    [Fact]
    public void A_market_order_takes_within_its_protection_price_and_cancels_the_rest()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 2);
        Limit(book, 2, 1, Side.Sell, 110, 2);

        var events = Submit(book, 3, 2, Side.Buy, OrderType.Market, 105, 5);

        Assert.Equal([100L], Fills(events).Select(f => f.Price));
        Assert.Equal(new Cancelled(3, 2, Side.Buy, 105, 3, CancelReason.Unfilled), events[^1]);
        Assert.Equal(110, book.BestAsk);
        Assert.Equal(0, book.BestBid);
    }

    [Fact]
    public void A_market_sell_with_no_protection_takes_any_bid()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Buy, 3, 2);

        var events = Submit(book, 2, 2, Side.Sell, OrderType.Market, 0, 2);

        Assert.Equal(new Fill(2, 1, 1, 2, 2, Side.Sell, 3, 2, true, true), Fills(events).Single());
        Assert.Equal(0, book.OrderCount);
    }

    [Fact]
    public void A_market_order_with_nothing_within_its_protection_is_rejected_and_changes_nothing()
    {
        var book = NewBook();
        Submit(book, 1, 1, Side.Buy, OrderType.Market, 100, 1, RejectReason.NoLiquidity);
        Limit(book, 2, 1, Side.Sell, 110, 2);
        var hash = book.Hash();

        var events = Submit(book, 3, 2, Side.Buy, OrderType.Market, 109, 1, RejectReason.NoLiquidity);

        Assert.Equal<BookEvent>([new Rejected(new NewOrder(3, 2, Side.Buy, OrderType.Market, 109, 1), RejectReason.NoLiquidity)], events);
        Assert.Equal(hash, book.Hash());
    }

    [Fact]
    public void An_immediate_or_cancel_order_never_rests()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Buy, 100, 2);

        var partly = Submit(book, 2, 2, Side.Sell, OrderType.ImmediateOrCancel, 100, 5);
        var nothing = Submit(book, 3, 2, Side.Sell, OrderType.ImmediateOrCancel, 100, 5);

        Assert.Equal(2, Fills(partly).Single().Quantity);
        Assert.Equal(new Cancelled(2, 2, Side.Sell, 100, 3, CancelReason.Unfilled), partly[^1]);
        Assert.Equal<BookEvent>(
        [
            new Accepted(new NewOrder(3, 2, Side.Sell, OrderType.ImmediateOrCancel, 100, 5)),
            new Cancelled(3, 2, Side.Sell, 100, 5, CancelReason.Unfilled),
        ], nothing);
        Assert.Equal(0, book.OrderCount);
    }

    [Fact]
    public void A_fill_or_kill_order_fills_whole_or_is_rejected_without_touching_the_book()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 2);
        Limit(book, 2, 2, Side.Sell, 101, 2);
        var hash = book.Hash();
        var sequence = book.Sequence;

        Submit(book, 3, 3, Side.Buy, OrderType.FillOrKill, 101, 5, RejectReason.FillOrKillNotFillable);
        Submit(book, 4, 3, Side.Buy, OrderType.FillOrKill, 100, 3, RejectReason.FillOrKillNotFillable);
        Assert.Equal(hash, book.Hash());
        Assert.Equal(sequence, book.Sequence);

        var filled = Submit(book, 5, 3, Side.Buy, OrderType.FillOrKill, 101, 4);
        Assert.Equal(4, Fills(filled).Sum(f => f.Quantity));
        Assert.True(Fills(filled)[^1].TakerDone);
        Assert.Equal(0, book.OrderCount);
    }

    [Fact]
    public void A_post_only_order_rests_as_a_maker_and_is_rejected_if_it_would_take()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 2);
        Submit(book, 2, 2, Side.Buy, OrderType.PostOnly, 99, 2);
        var hash = book.Hash();

        var events = Submit(book, 3, 2, Side.Buy, OrderType.PostOnly, 100, 2, RejectReason.PostOnlyWouldCross);

        Assert.IsType<Rejected>(Assert.Single(events));
        Assert.Equal(hash, book.Hash());
        Assert.True(book.TryGetOrder(2, out var resting));
        Assert.True(resting.PostOnly);
    }

    [Fact]
    public void Cancel_removes_the_order_and_its_empty_level_and_an_unknown_id_is_refused()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Buy, 100, 2);
        Limit(book, 2, 1, Side.Buy, 100, 3);

        Assert.Equal<BookEvent>([new Cancelled(1, 1, Side.Buy, 100, 2, CancelReason.Requested), new DepthChanged(Side.Buy, 100, 3, 3)], Cancel(book, 1));
        Assert.Equal<BookEvent>([new Cancelled(2, 1, Side.Buy, 100, 3, CancelReason.Requested), new DepthChanged(Side.Buy, 100, 0, 4)], Cancel(book, 2));
        Assert.Empty(Cancel(book, 2, RejectReason.UnknownOrder));
        Assert.Empty(Cancel(book, 99, RejectReason.UnknownOrder));
        Assert.Equal(0, book.BestBid);
        Assert.Equal(0, book.LevelCount(Side.Buy));
        Assert.Equal(4, book.Sequence);
    }

    [Fact]
    public void An_expiry_is_a_cancel_that_reports_its_reason()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 2);
        var recorder = new Recorder();

        Assert.Equal(RejectReason.None, book.Cancel(1, CancelReason.Expired, ref recorder));
        Assert.Equal<BookEvent>([new Cancelled(1, 1, Side.Sell, 100, 2, CancelReason.Expired), new DepthChanged(Side.Sell, 100, 0, 2)], recorder.Events);
        Assert.Equal(RejectReason.UnknownOrder, book.Cancel(1, CancelReason.Expired, ref recorder));
    }

    [Fact]
    public void Replace_that_shrinks_at_the_same_price_keeps_time_priority()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 5);
        Limit(book, 2, 2, Side.Sell, 100, 5);

        var events = Replace(book, 1, 100, 3);

        Assert.Equal<BookEvent>([new DepthChanged(Side.Sell, 100, 8, 3)], events);
        Assert.Equal([1L, 2L], Queue(book, Side.Sell, 100));
        Assert.Empty(Replace(book, 1, 100, 3));
        Assert.Equal(1, Fills(Limit(book, 3, 3, Side.Buy, 100, 1)).Single().MakerOrderId);
    }

    [Fact]
    public void Replace_that_grows_or_moves_goes_to_the_back_of_the_queue()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 5);
        Limit(book, 2, 2, Side.Sell, 100, 5);
        Limit(book, 3, 3, Side.Sell, 101, 5);

        var grown = Replace(book, 1, 100, 6);
        Assert.Equal(new Cancelled(1, 1, Side.Sell, 100, 5, CancelReason.Replaced), grown[0]);
        Assert.Equal(new Accepted(new NewOrder(1, 1, Side.Sell, OrderType.Limit, 100, 6)), grown[2]);
        Assert.Equal([2L, 1L], Queue(book, Side.Sell, 100));

        Replace(book, 2, 101, 5);
        Assert.Equal([3L, 2L], Queue(book, Side.Sell, 101));
        Assert.True(book.TryGetOrder(2, out var moved));
        Assert.Equal(new RestingOrder(2, 2, Side.Sell, 101, 5), moved);
    }

    [Fact]
    public void Replace_to_a_crossing_price_fills_like_a_new_order()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 2);
        Limit(book, 2, 2, Side.Buy, 98, 5);

        var events = Replace(book, 2, 100, 5);

        Assert.Equal(new Fill(4, 1, 1, 2, 2, Side.Buy, 100, 2, true, false), Fills(events).Single());
        Assert.Equal(100, book.BestBid);
        Assert.True(book.TryGetOrder(2, out var rest));
        Assert.Equal(3, rest.Remaining);
    }

    [Fact]
    public void Replace_refusals_change_nothing()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 2);
        Submit(book, 2, 2, Side.Buy, OrderType.PostOnly, 98, 5);
        var hash = book.Hash();

        Assert.Empty(Replace(book, 9, 100, 1, RejectReason.UnknownOrder));
        Assert.Empty(Replace(book, 2, 98, 0, RejectReason.InvalidQuantity));
        Assert.Empty(Replace(book, 2, 98, 1_000_001, RejectReason.InvalidQuantity));
        Assert.Empty(Replace(book, 2, 0, 5, RejectReason.InvalidPrice));
        Assert.Empty(Replace(book, 2, 1_000_001, 5, RejectReason.InvalidPrice));
        Assert.Empty(Replace(book, 2, 100, 5, RejectReason.PostOnlyWouldCross));
        Assert.Equal(hash, book.Hash());

        Replace(book, 2, 99, 5);
        Assert.True(book.TryGetOrder(2, out var moved));
        Assert.True(moved.PostOnly);
    }

    [Fact]
    public void Self_trade_cancel_newest_cancels_the_incoming_remainder_and_keeps_the_resting_order()
    {
        var book = NewBook(SelfTradePrevention.CancelNewest);
        Limit(book, 1, 2, Side.Sell, 100, 1);
        Limit(book, 2, 1, Side.Sell, 100, 5);
        Limit(book, 3, 2, Side.Sell, 100, 1);

        var events = Limit(book, 4, 1, Side.Buy, 100, 5);

        Assert.Equal(1, Fills(events).Single().MakerOrderId);
        Assert.Equal(new DepthChanged(Side.Sell, 100, 6, 5), events[2]);
        Assert.Equal(new Cancelled(4, 1, Side.Buy, 100, 4, CancelReason.SelfTrade), events[^1]);
        Assert.Equal([2L, 3L], Queue(book, Side.Sell, 100));
        Assert.Equal(0, book.BestBid);
    }

    [Fact]
    public void Self_trade_cancel_oldest_cancels_the_resting_order_and_goes_on_matching()
    {
        var book = NewBook(SelfTradePrevention.CancelOldest);
        Limit(book, 1, 1, Side.Sell, 100, 5);
        Limit(book, 2, 2, Side.Sell, 100, 5);

        var events = Limit(book, 3, 1, Side.Buy, 100, 3);

        Assert.Equal(new Cancelled(1, 1, Side.Sell, 100, 5, CancelReason.SelfTrade), events[1]);
        Assert.Equal(2, Fills(events).Single().MakerOrderId);
        Assert.Equal([2L], Queue(book, Side.Sell, 100));
        Assert.True(book.TryGetOrder(2, out var rest));
        Assert.Equal(2, rest.Remaining);
    }

    [Fact]
    public void Self_trade_cancel_both_cancels_both_orders()
    {
        var book = NewBook(SelfTradePrevention.CancelBoth);
        Limit(book, 1, 2, Side.Buy, 100, 1);
        Limit(book, 2, 1, Side.Buy, 100, 5);
        Limit(book, 3, 2, Side.Buy, 100, 1);

        var events = Limit(book, 4, 1, Side.Sell, 99, 5);

        Assert.Equal<BookEvent>(
        [
            new Accepted(new NewOrder(4, 1, Side.Sell, OrderType.Limit, 99, 5)),
            new Filled(new Fill(4, 1, 2, 4, 1, Side.Sell, 100, 1, true, false)),
            new Cancelled(2, 1, Side.Buy, 100, 5, CancelReason.SelfTrade),
            new DepthChanged(Side.Buy, 100, 1, 5),
            new Cancelled(4, 1, Side.Sell, 99, 4, CancelReason.SelfTrade),
        ], events);
        Assert.Equal([3L], Queue(book, Side.Buy, 100));
        Assert.Equal(0, book.BestAsk);
    }

    [Theory]
    [InlineData(SelfTradePrevention.CancelNewest, false)]
    [InlineData(SelfTradePrevention.CancelBoth, false)]
    [InlineData(SelfTradePrevention.CancelOldest, true)]
    public void Fill_or_kill_counts_only_what_self_trade_prevention_lets_it_reach(SelfTradePrevention mode, bool fillable)
    {
        var book = NewBook(mode);
        Limit(book, 1, 2, Side.Sell, 100, 2);
        Limit(book, 2, 1, Side.Sell, 100, 5);
        Limit(book, 3, 3, Side.Sell, 101, 2);

        var events = Submit(book, 4, 1, Side.Buy, OrderType.FillOrKill, 101, 4,
            fillable ? RejectReason.None : RejectReason.FillOrKillNotFillable);

        if (fillable)
        {
            Assert.Equal(4, Fills(events).Sum(f => f.Quantity));
            Assert.Contains(new Cancelled(2, 1, Side.Sell, 100, 5, CancelReason.SelfTrade), events);
            Assert.Equal(0, book.OrderCount);
        }
        else
        {
            Assert.IsType<Rejected>(Assert.Single(events));
            Assert.Equal(3, book.OrderCount);
        }
    }

    [Fact]
    public void No_mode_ever_fills_an_owner_against_itself()
    {
        foreach (var mode in Enum.GetValues<SelfTradePrevention>())
        {
            foreach (var type in new[] { OrderType.Limit, OrderType.Market, OrderType.ImmediateOrCancel })
            {
                var book = NewBook(mode);
                Limit(book, 1, 1, Side.Sell, 100, 5);
                var events = Submit(book, 2, 1, Side.Buy, type, 100, 5);
                Assert.Empty(Fills(events));
                Assert.Contains(events, e => e is Cancelled { Reason: CancelReason.SelfTrade });
                Assert.True(book.BestBid == 0 || book.BestAsk == 0 || book.BestBid < book.BestAsk);
            }
        }
    }

    [Theory]
    [InlineData(Side.Buy, OrderType.Limit, 100, 0, RejectReason.InvalidQuantity)]
    [InlineData(Side.Buy, OrderType.Limit, 100, -3, RejectReason.InvalidQuantity)]
    [InlineData(Side.Buy, OrderType.Limit, 100, 1_000_001, RejectReason.InvalidQuantity)]
    [InlineData(Side.Buy, OrderType.Limit, 0, 1, RejectReason.InvalidPrice)]
    [InlineData(Side.Buy, OrderType.Limit, -1, 1, RejectReason.InvalidPrice)]
    [InlineData(Side.Buy, OrderType.Limit, 1_000_001, 1, RejectReason.InvalidPrice)]
    [InlineData(Side.Buy, OrderType.Market, 0, 1, RejectReason.InvalidPrice)]
    [InlineData(Side.Sell, OrderType.PostOnly, 0, 1, RejectReason.InvalidPrice)]
    [InlineData(Side.Sell, OrderType.Market, -1, 1, RejectReason.InvalidPrice)]
    [InlineData(Side.Buy, OrderType.Limit, 100, 1, RejectReason.DuplicateOrderId)]
    [InlineData((Side)2, OrderType.Limit, 100, 1, RejectReason.InvalidSide)]
    [InlineData(Side.Buy, (OrderType)5, 100, 1, RejectReason.InvalidOrderType)]
    public void An_invalid_order_is_rejected_with_its_reason_and_changes_nothing(Side side, OrderType type, long price, long quantity, RejectReason reason)
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Sell, 100, 5);
        Limit(book, 2, 1, Side.Buy, 90, 5);
        var hash = book.Hash();
        var sequence = book.Sequence;
        var id = reason == RejectReason.DuplicateOrderId ? 2 : 3;

        var events = Submit(book, id, 2, side, type, price, quantity, reason);

        Assert.Equal<BookEvent>([new Rejected(new NewOrder(id, 2, side, type, price, quantity), reason)], events);
        Assert.Equal(hash, book.Hash());
        Assert.Equal(sequence, book.Sequence);
    }

    [Fact]
    public void Price_times_quantity_must_fit_in_a_long()
    {
        var book = new OrderBook(new BookOptions(MaxPrice: long.MaxValue, MaxQuantity: BookOptions.QuantityLimit));
        var price = long.MaxValue / 3;

        Submit(book, 1, 1, Side.Buy, OrderType.Limit, price, 4, RejectReason.Overflow);
        Submit(book, 2, 1, Side.Buy, OrderType.Limit, long.MaxValue, 2, RejectReason.Overflow);
        Submit(book, 3, 1, Side.Buy, OrderType.Limit, price, 3);
        Submit(book, 4, 2, Side.Sell, OrderType.Limit, long.MaxValue, 1);
        Replace(book, 3, price, 4, RejectReason.Overflow);

        Assert.Equal(price, book.BestBid);
        Assert.Equal(long.MaxValue, book.BestAsk);
        Assert.Equal(2, book.OrderCount);
    }

    [Fact]
    public void The_first_failing_check_names_the_reason()
    {
        var book = new OrderBook(new BookOptions(MaxPrice: long.MaxValue));
        Limit(book, 1, 1, Side.Sell, 100, 1);
        // Side, then type, quantity, price, overflow, the id, and last what the book holds.
        Submit(book, 1, 1, (Side)7, (OrderType)7, 0, 0, RejectReason.InvalidSide);
        Submit(book, 1, 1, Side.Buy, (OrderType)7, 0, 0, RejectReason.InvalidOrderType);
        Submit(book, 1, 1, Side.Buy, OrderType.PostOnly, 0, 0, RejectReason.InvalidQuantity);
        Submit(book, 1, 1, Side.Buy, OrderType.PostOnly, 0, 3, RejectReason.InvalidPrice);
        Submit(book, 1, 1, Side.Buy, OrderType.PostOnly, long.MaxValue, 3, RejectReason.Overflow);
        Submit(book, 1, 1, Side.Buy, OrderType.PostOnly, 100, 3, RejectReason.DuplicateOrderId);
        Submit(book, 2, 1, Side.Buy, OrderType.PostOnly, 100, 3, RejectReason.PostOnlyWouldCross);
    }

    [Fact]
    public void Options_outside_their_limits_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrderBook(new BookOptions(MaxPrice: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrderBook(new BookOptions(MaxQuantity: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrderBook(new BookOptions(MaxQuantity: BookOptions.QuantityLimit + 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrderBook(new BookOptions(InitialCapacity: -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrderBook(new BookOptions((SelfTradePrevention)3)));
    }

    [Fact]
    public void A_snapshot_lists_levels_best_first_with_totals_and_counts()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Buy, 98, 1);
        Limit(book, 2, 1, Side.Buy, 99, 2);
        Limit(book, 3, 2, Side.Buy, 99, 3);
        Limit(book, 4, 1, Side.Sell, 103, 4);
        Limit(book, 5, 1, Side.Sell, 101, 5);

        var snapshot = book.Snapshot(1);
        var full = book.Snapshot(10);

        Assert.Equal(book.Sequence, snapshot.Sequence);
        Assert.Equal([new DepthLevel(99, 5, 2)], snapshot.Bids);
        Assert.Equal([new DepthLevel(101, 5, 1)], snapshot.Asks);
        Assert.Equal([new DepthLevel(99, 5, 2), new DepthLevel(98, 1, 1)], full.Bids);
        Assert.Equal([new DepthLevel(101, 5, 1), new DepthLevel(103, 4, 1)], full.Asks);
    }

    [Fact]
    public void Export_and_restore_rebuild_the_same_book_and_hash()
    {
        var book = NewBook();
        Limit(book, 1, 1, Side.Buy, 99, 2);
        Limit(book, 2, 2, Side.Buy, 99, 3);
        Limit(book, 3, 1, Side.Buy, 97, 1);
        Submit(book, 4, 3, Side.Sell, OrderType.PostOnly, 101, 4);
        Limit(book, 5, 3, Side.Sell, 99, 1);

        var exported = book.ExportOrders();
        var restored = OrderBook.Restore(book.Options, exported, book.Sequence);

        Assert.Equal(
        [
            new RestingOrder(1, 1, Side.Buy, 99, 1), new RestingOrder(2, 2, Side.Buy, 99, 3), new RestingOrder(3, 1, Side.Buy, 97, 1),
            new RestingOrder(4, 3, Side.Sell, 101, 4, PostOnly: true),
        ], exported);
        Assert.Equal(book.Hash(), restored.Hash());
        Assert.Equal(exported, restored.ExportOrders());
        Assert.Equal(book.Sequence, restored.Sequence);
        Assert.NotEqual(book.Hash(), OrderBook.Restore(book.Options, exported, book.Sequence + 1).Hash());
        Assert.NotEqual(book.Hash(), OrderBook.Restore(book.Options, [exported[1], exported[0], exported[2], exported[3]], book.Sequence).Hash());

        // The restored book behaves like the original.
        var a = Fills(Limit(book, 9, 5, Side.Sell, 97, 5));
        var b = Fills(Limit(restored, 9, 5, Side.Sell, 97, 5));
        Assert.Equal(a, b);
        Assert.Equal(book.Hash(), restored.Hash());
    }

    [Fact]
    public void Restore_refuses_what_a_book_could_not_hold()
    {
        var options = new BookOptions(MaxPrice: 1000, MaxQuantity: 10);
        Assert.Throws<ArgumentException>(() => OrderBook.Restore(options, [new RestingOrder(1, 1, Side.Buy, 10, 1), new RestingOrder(1, 2, Side.Buy, 9, 1)], 0));
        Assert.Throws<ArgumentException>(() => OrderBook.Restore(options, [new RestingOrder(1, 1, Side.Buy, 10, 1), new RestingOrder(2, 2, Side.Sell, 10, 1)], 0));
        Assert.Throws<ArgumentException>(() => OrderBook.Restore(options, [new RestingOrder(1, 1, Side.Buy, 10, 11)], 0));
        Assert.Throws<ArgumentException>(() => OrderBook.Restore(options, [new RestingOrder(1, 1, Side.Buy, 1001, 1)], 0));
        Assert.Throws<ArgumentException>(() => OrderBook.Restore(options, [new RestingOrder(1, 1, (Side)3, 10, 1)], 0));
    }

    [Fact]
    public void The_same_commands_give_the_same_hash_and_any_difference_changes_it()
    {
        static OrderBook Run(long lastQuantity)
        {
            var book = NewBook();
            Limit(book, 1, 1, Side.Buy, 99, 2);
            Limit(book, 2, 2, Side.Sell, 101, 3);
            Limit(book, 3, 3, Side.Sell, 101, lastQuantity);
            return book;
        }

        Assert.Equal(Run(4).Hash(), Run(4).Hash());
        Assert.NotEqual(Run(4).Hash(), Run(5).Hash());
        Assert.NotEqual(NewBook().Hash(), Run(4).Hash());
    }

    [Fact]
    public void Pools_grow_past_their_initial_capacity_and_empty_cleanly()
    {
        var book = NewBook();
        for (var i = 0; i < 5_000; i++)
        {
            Limit(book, i, i % 7, i % 2 == 0 ? Side.Buy : Side.Sell, i % 2 == 0 ? 1_000 - (i % 300) : 2_000 + (i % 300), 1 + (i % 5));
        }
        Assert.Equal(5_000, book.OrderCount);
        Assert.Equal(150, book.LevelCount(Side.Buy));
        for (var i = 0; i < 5_000; i += 2)
        {
            Cancel(book, i);
        }
        Assert.Equal(2_500, book.OrderCount);
        var taken = Fills(Submit(book, 10_000, 99, Side.Buy, OrderType.Market, 1_000_000, 1_000_000)).Sum(f => f.Quantity);
        Assert.Equal(Enumerable.Range(0, 5_000).Where(i => i % 2 == 1).Sum(i => 1 + (i % 5)), taken);
        Assert.Equal(0, book.OrderCount);
        Assert.Equal(0, book.BestAsk);
        Assert.Equal(0, book.BestBid);
    }
}
