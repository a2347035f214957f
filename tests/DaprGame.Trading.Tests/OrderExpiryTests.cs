using System.Net;
using DaprGame.Contracts.Trading;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Trading.Tests;

/// <summary>Good-till-date orders: the book takes them off at their time and gives back what they still hold.</summary>
public sealed class OrderExpiryTests
{
    [Fact]
    public async Task A_good_till_date_order_leaves_the_book_at_its_time_and_its_unfilled_hold_comes_back()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var rig = await TradingRig.StartAsync(time: clock);
        await rig.MintAsync("seller", TradingRig.Swords(10));
        await rig.MintAsync("buyer", TradingRig.Gold(1_000));

        var expiring = await rig.PlaceAsync("seller", "gtd", OrderSide.Sell, price: 100, quantity: 5, expiresAt: clock.GetUtcNow().AddMinutes(10));
        Assert.Equal(clock.GetUtcNow().AddMinutes(10), expiring.ExpiresAt);
        var lasting = await rig.PlaceAsync("seller", "gtc", OrderSide.Sell, price: 100, quantity: 3);
        var bid = await rig.PlaceAsync("buyer", "later", OrderSide.Buy, price: 50, quantity: 2, expiresAt: clock.GetUtcNow().AddMinutes(20));
        var accepted = await rig.NextEventAsync("trading.order.accepted.v1", e => e["data"]!["clientOrderId"]!.GetValue<string>() == "gtd");
        Assert.NotNull(accepted["data"]!["expiresAt"]);

        // Two of the expiring five sell first (it came first at the price); the other three expire.
        var take = await rig.PlaceAsync("buyer", "take", OrderSide.Buy, price: 100, quantity: 2, kind: OrderKind.ImmediateOrCancel);
        Assert.Equal(2, take.Filled);
        clock.Advance(TimeSpan.FromMilliseconds(10));   // the settlement's first reminder is due 10 ms after it started
        await rig.SettledAsync(Assert.Single(take.FillIds), "buyer");

        clock.Advance(TimeSpan.FromMinutes(10));
        var cancelled = await rig.NextEventAsync("trading.order.cancelled.v1", e => e["data"]!["orderId"]!.GetValue<string>() == expiring.OrderId);
        Assert.Equal("expired", cancelled["data"]!["reason"]!.GetValue<string>());
        Assert.Equal(3, cancelled["data"]!["remaining"]!.GetValue<long>());

        var orders = await rig.OkAsync<List<OrderView>>(HttpMethod.Get, TradingRoutes.MyOrders(TradingRig.Instrument), "seller");
        Assert.Equal(lasting.OrderId, Assert.Single(orders).OrderId);
        // The release runs before the event is published (the book's outbox is ordered), so the wallet shows it already.
        Assert.Equal((5, 3), TradingRig.Swords(await rig.WalletAsync("seller")));
        var depth = await rig.OkAsync<DepthView>(HttpMethod.Get, TradingRoutes.Depth(TradingRig.Instrument), "buyer");
        Assert.Equal(new DepthLevel(100, 3, 1), Assert.Single(depth.Asks));

        // The buyer's bid has ten more minutes; then it goes too, and its 100 GOLD are free again.
        Assert.Equal((1_000 - 200 - 100, 100), TradingRig.Gold(await rig.WalletAsync("buyer")));
        clock.Advance(TimeSpan.FromMinutes(10));
        var bidGone = await rig.NextEventAsync("trading.order.cancelled.v1", e => e["data"]!["orderId"]!.GetValue<string>() == bid.OrderId);
        Assert.Equal("expired", bidGone["data"]!["reason"]!.GetValue<string>());
        Assert.Equal((800, 0), TradingRig.Gold(await rig.WalletAsync("buyer")));
        Assert.Equal((5, 3), TradingRig.Swords(await rig.WalletAsync("seller")));
    }

    [Fact]
    public async Task An_expiry_in_the_past_too_far_ahead_or_on_an_order_that_never_rests_is_refused_and_holds_nothing()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var rig = await TradingRig.StartAsync(time: clock);
        await rig.MintAsync("alice", TradingRig.Gold(10_000));
        var now = clock.GetUtcNow();

        foreach (var (id, kind, at) in new[]
        {
            ("past", OrderKind.Limit, now.AddSeconds(-1)),
            ("now", OrderKind.Limit, now),
            ("far", OrderKind.Limit, now.AddDays(31)),
            ("ioc", OrderKind.ImmediateOrCancel, now.AddMinutes(5)),
            ("fok", OrderKind.FillOrKill, now.AddMinutes(5)),
            ("market", OrderKind.Market, now.AddMinutes(5)),
        })
        {
            await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.Orders, "alice", new PlaceOrder(TradingRig.Instrument, id, OrderSide.Buy, kind, 10, 1, at),
                HttpStatusCode.BadRequest, TradingErrorCodes.Invalid);
        }

        Assert.Equal((10_000, 0), TradingRig.Gold(await rig.WalletAsync("alice")));
        Assert.Empty(await rig.OkAsync<List<OrderView>>(HttpMethod.Get, TradingRoutes.MyOrders(TradingRig.Instrument), "alice"));
    }
}
