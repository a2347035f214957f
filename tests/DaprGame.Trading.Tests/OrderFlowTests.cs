using System.Net;
using DaprGame.Contracts.Trading;

namespace DaprGame.Trading.Tests;

/// <summary>Orders through the whole service: hold → match → settlement saga → balances, events and market data.</summary>
public sealed class OrderFlowTests
{
    [Fact]
    public async Task A_crossing_order_fills_at_the_makers_price_and_settles_both_sides_minus_the_fee()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("seller", TradingRig.Swords(10));
        await rig.MintAsync("buyer", TradingRig.Gold(1_000));

        var ask = await rig.PlaceAsync("seller", "s1", OrderSide.Sell, price: 100, quantity: 10);
        Assert.Equal("open", ask.Status);
        Assert.Equal((0, 10), TradingRig.Swords(await rig.WalletAsync("seller")));

        var bid = await rig.PlaceAsync("buyer", "b1", OrderSide.Buy, price: 105, quantity: 4);
        Assert.Equal("filled", bid.Status);
        var fillId = Assert.Single(bid.FillIds);
        var fill = await rig.NextEventAsync("trading.fill.v1");
        Assert.Equal(100, fill["data"]!["price"]!.GetValue<long>());
        Assert.Equal(4, fill["data"]!["quantity"]!.GetValue<long>());

        var settlement = await rig.SettledAsync(fillId, "buyer");
        Assert.Equal("settled", settlement.Status);
        Assert.Equal(4, settlement.Fee);   // 1 % of 400

        var buyer = await rig.WalletAsync("buyer");
        Assert.Equal((600, 0), TradingRig.Gold(buyer));     // paid 400 at the maker's 100; the 20 of price improvement came back
        Assert.Equal((4, 0), TradingRig.Swords(buyer));
        var seller = await rig.WalletAsync("seller");
        Assert.Equal((396, 0), TradingRig.Gold(seller));    // 400 − 4 fee
        Assert.Equal((0, 6), TradingRig.Swords(seller));    // the rest still held by the resting ask

        var depth = await rig.OkAsync<DepthView>(HttpMethod.Get, TradingRoutes.Depth(TradingRig.Instrument), "buyer");
        Assert.Empty(depth.Bids);
        Assert.Equal(new DepthLevel(100, 6, 1), Assert.Single(depth.Asks));
        var trades = await rig.OkAsync<List<TradeView>>(HttpMethod.Get, TradingRoutes.Trades(TradingRig.Instrument), "buyer");
        Assert.Equal(4, Assert.Single(trades).Quantity);
        var candles = await rig.OkAsync<List<CandleView>>(HttpMethod.Get, TradingRoutes.Candles(TradingRig.Instrument) + "?interval=1m", "buyer");
        Assert.Equal(4, Assert.Single(candles).Volume);

        // Cancelling the rest gives the seller's items back.
        var cancelled = await rig.OkAsync<OrderView>(HttpMethod.Delete, TradingRoutes.Order(TradingRig.Instrument, ask.OrderId), "seller");
        Assert.Equal("cancelled", cancelled.Status);
        Assert.Equal((6, 0), TradingRig.Swords(await rig.WalletAsync("seller")));
    }

    [Fact]
    public async Task An_order_the_wallet_cannot_cover_is_refused_and_holds_nothing()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("poor", TradingRig.Gold(50));

        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.Orders, "poor", new PlaceOrder(TradingRig.Instrument, "b1", OrderSide.Buy, OrderKind.Limit, 100, 1),
            HttpStatusCode.Conflict, TradingErrorCodes.InsufficientFunds);
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.Orders, "poor", new PlaceOrder(TradingRig.Instrument, "s1", OrderSide.Sell, OrderKind.Limit, 100, 1),
            HttpStatusCode.Conflict, TradingErrorCodes.InsufficientItems);
        var rejected = await rig.NextEventAsync("trading.order.rejected.v1");
        Assert.Equal("insufficient_funds", rejected["data"]!["code"]!.GetValue<string>());

        Assert.Equal((50, 0), TradingRig.Gold(await rig.WalletAsync("poor")));
        Assert.Empty(await rig.OkAsync<List<OrderView>>(HttpMethod.Get, TradingRoutes.MyOrders(TradingRig.Instrument), "poor"));
    }

    [Fact]
    public async Task Bad_orders_and_other_players_orders_get_typed_errors_and_change_nothing()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("alice", TradingRig.Gold(10_000));
        var mine = await rig.PlaceAsync("alice", "a1", OrderSide.Buy, 10, 5);

        var bad = new[]
        {
            new PlaceOrder(TradingRig.Instrument, "x1", OrderSide.Buy, OrderKind.Limit, 0, 1),
            new PlaceOrder(TradingRig.Instrument, "x2", OrderSide.Buy, OrderKind.Limit, -10, 1),
            new PlaceOrder(TradingRig.Instrument, "x3", OrderSide.Buy, OrderKind.Limit, 10, 0),
            new PlaceOrder(TradingRig.Instrument, "x4", OrderSide.Buy, OrderKind.Limit, 10, -1),
            new PlaceOrder(TradingRig.Instrument, "x5", OrderSide.Buy, OrderKind.Limit, long.MaxValue, 2),
            new PlaceOrder(TradingRig.Instrument, "x6", OrderSide.Buy, OrderKind.Limit, 1_000_000_001, 1),
            new PlaceOrder(TradingRig.Instrument, "x8", OrderSide.Buy, OrderKind.Limit, 10, 1_000_001),
            new PlaceOrder(TradingRig.Instrument, "", OrderSide.Buy, OrderKind.Limit, 10, 1),
        };
        foreach (var order in bad)
        {
            await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.Orders, "alice", order, HttpStatusCode.BadRequest, TradingErrorCodes.Invalid);
        }
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.Orders, "alice", new PlaceOrder("unobtainium-GOLD", "x7", OrderSide.Buy, OrderKind.Limit, 10, 1),
            HttpStatusCode.NotFound, TradingErrorCodes.UnknownInstrument);
        await rig.ProblemAsync(HttpMethod.Delete, TradingRoutes.Order(TradingRig.Instrument, mine.OrderId), "mallory", null, HttpStatusCode.NotFound, TradingErrorCodes.NotFound);
        await rig.ProblemAsync(HttpMethod.Put, TradingRoutes.Order(TradingRig.Instrument, mine.OrderId), "mallory", new ReplaceOrder(1, 1), HttpStatusCode.NotFound, TradingErrorCodes.NotFound);

        Assert.Equal((10_000 - 50, 50), TradingRig.Gold(await rig.WalletAsync("alice")));
        var open = Assert.Single(await rig.OkAsync<List<OrderView>>(HttpMethod.Get, TradingRoutes.MyOrders(TradingRig.Instrument), "alice"));
        Assert.Equal(mine.OrderId, open.OrderId);
        Assert.Equal(5, open.Remaining);
    }

    [Fact]
    public async Task Replacing_an_order_keeps_it_open_under_its_new_terms_and_gives_back_the_hold_it_no_longer_needs()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("alice", TradingRig.Gold(1_000));
        var order = await rig.PlaceAsync("alice", "r1", OrderSide.Buy, price: 10, quantity: 5);
        Assert.Equal((950, 50), TradingRig.Gold(await rig.WalletAsync("alice")));

        // A new price loses the order's place in the queue (cancel and resubmit inside the engine) but not the order.
        var replaced = await rig.OkAsync<OrderView>(HttpMethod.Put, TradingRoutes.Order(TradingRig.Instrument, order.OrderId), "alice", new ReplaceOrder(8, 3));
        Assert.Equal(("open", 8L, 3L), (replaced.Status, replaced.Price, replaced.Remaining));
        Assert.Equal((976, 24), TradingRig.Gold(await rig.WalletAsync("alice")));
        var open = Assert.Single(await rig.OkAsync<List<OrderView>>(HttpMethod.Get, TradingRoutes.MyOrders(TradingRig.Instrument), "alice"));
        Assert.Equal(order.OrderId, open.OrderId);

        // More than the hold covers needs a new order.
        await rig.ProblemAsync(HttpMethod.Put, TradingRoutes.Order(TradingRig.Instrument, order.OrderId), "alice", new ReplaceOrder(9, 3),
            HttpStatusCode.Conflict, TradingErrorCodes.InsufficientFunds);
        // Cancelling returns the rest.
        await rig.OkAsync<OrderView>(HttpMethod.Delete, TradingRoutes.Order(TradingRig.Instrument, order.OrderId), "alice");
        Assert.Equal((1_000, 0), TradingRig.Gold(await rig.WalletAsync("alice")));
    }

    [Fact]
    public async Task Placing_again_with_the_same_client_order_id_returns_the_first_order_and_holds_once()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("alice", TradingRig.Gold(1_000));

        var first = await rig.PlaceAsync("alice", "dup", OrderSide.Buy, 10, 5);
        var again = await rig.PlaceAsync("alice", "dup", OrderSide.Buy, 10, 5);

        Assert.Equal(first.OrderId, again.OrderId);
        Assert.Equal((950, 50), TradingRig.Gold(await rig.WalletAsync("alice")));
    }

    [Fact]
    public async Task A_settlement_interrupted_by_a_restart_finishes_after_it_with_nothing_lost_or_doubled()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("seller", TradingRig.Swords(5));
        await rig.MintAsync("buyer", TradingRig.Gold(1_000));
        await rig.PlaceAsync("seller", "s1", OrderSide.Sell, 100, 5);

        var bid = await rig.PlaceAsync("buyer", "b1", OrderSide.Buy, 100, 5);
        // Restart at once: the saga is somewhere between its start and its end; its reminder brings it back.
        await rig.RestartTradingAsync();

        var view = await rig.SettledAsync(Assert.Single(bid.FillIds), "seller");
        Assert.Equal("settled", view.Status);
        var buyer = await rig.WalletAsync("buyer");
        var seller = await rig.WalletAsync("seller");
        Assert.Equal((500, 0), TradingRig.Gold(buyer));
        Assert.Equal((5, 0), TradingRig.Swords(buyer));
        Assert.Equal((495, 0), TradingRig.Gold(seller));
        Assert.Equal((0, 0), TradingRig.Swords(seller));
    }
}
