using System.Net;
using DaprGame.Contracts.Trading;

namespace DaprGame.Trading.Tests;

/// <summary>Direct trades: propose → accept → both confirm → escrow → swap; refusals leave both wallets as they were.</summary>
public sealed class DirectTradeTests
{
    [Fact]
    public async Task Both_confirming_swaps_the_two_sides_through_escrow()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("alice", TradingRig.Gold(300));
        await rig.MintAsync("bob", TradingRig.Swords(2));

        var proposed = await rig.OkAsync<DirectTradeView>(HttpMethod.Post, TradingRoutes.DirectTrades, "alice",
            new ProposeTrade("deal-1", "bob", TradingRig.Gold(250), TradingRig.Swords(2), null));
        Assert.Equal("proposed", proposed.Status);
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.DirectTrade(proposed.TradeId) + "/accept", "alice", null, HttpStatusCode.Conflict, TradingErrorCodes.WrongState);
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.DirectTrade(proposed.TradeId) + "/accept", "mallory", null, HttpStatusCode.NotFound, TradingErrorCodes.NotFound);

        await rig.OkAsync<DirectTradeView>(HttpMethod.Post, TradingRoutes.DirectTrade(proposed.TradeId) + "/accept", "bob");
        await rig.OkAsync<DirectTradeView>(HttpMethod.Post, TradingRoutes.DirectTrade(proposed.TradeId) + "/confirm", "alice");
        await rig.OkAsync<DirectTradeView>(HttpMethod.Post, TradingRoutes.DirectTrade(proposed.TradeId) + "/confirm", "bob");

        await rig.NextEventAsync("trading.trade.completed.v1");
        var done = await rig.OkAsync<DirectTradeView>(HttpMethod.Get, TradingRoutes.DirectTrade(proposed.TradeId), "bob");
        Assert.Equal("completed", done.Status);
        var alice = await rig.WalletAsync("alice");
        var bob = await rig.WalletAsync("bob");
        Assert.Equal((50, 0), TradingRig.Gold(alice));
        Assert.Equal((2, 0), TradingRig.Swords(alice));
        Assert.Equal((250, 0), TradingRig.Gold(bob));
        Assert.Equal((0, 0), TradingRig.Swords(bob));
    }

    [Fact]
    public async Task A_side_that_cannot_be_escrowed_fails_the_trade_and_releases_the_other()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("alice", TradingRig.Gold(300));
        await rig.MintAsync("bob", TradingRig.Swords(1));

        var proposed = await rig.OkAsync<DirectTradeView>(HttpMethod.Post, TradingRoutes.DirectTrades, "alice",
            new ProposeTrade("deal-2", "bob", TradingRig.Gold(250), TradingRig.Swords(2), null));
        await rig.OkAsync<DirectTradeView>(HttpMethod.Post, TradingRoutes.DirectTrade(proposed.TradeId) + "/accept", "bob");
        await rig.OkAsync<DirectTradeView>(HttpMethod.Post, TradingRoutes.DirectTrade(proposed.TradeId) + "/confirm", "alice");
        var last = await rig.OkAsync<DirectTradeView>(HttpMethod.Post, TradingRoutes.DirectTrade(proposed.TradeId) + "/confirm", "bob");

        Assert.Equal("failed", last.Status);
        Assert.Equal((300, 0), TradingRig.Gold(await rig.WalletAsync("alice")));
        Assert.Equal((1, 0), TradingRig.Swords(await rig.WalletAsync("bob")));
    }
}
