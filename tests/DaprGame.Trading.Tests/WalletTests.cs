using System.Net;
using DaprGame.Contracts.Trading;

namespace DaprGame.Trading.Tests;

/// <summary>Wallets through the API: grants, admin mint and burn, idempotency, concurrency and who may touch what.</summary>
public sealed class WalletTests
{
    [Fact]
    public async Task Hundred_parallel_debits_against_a_balance_that_covers_ten_let_exactly_ten_through()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("alice", TradingRig.Gold(10));

        var attempts = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            rig.SendAsync(HttpMethod.Post, TradingRoutes.AdminBurn("alice"), "admin-1", new AdminAdjustment($"burn-{i}", TradingRig.Gold(1), "load"), admin: true)));

        Assert.Equal(10, attempts.Count(a => a.Status == HttpStatusCode.OK));
        var refused = attempts.Where(a => a.Status != HttpStatusCode.OK).ToList();
        Assert.Equal(90, refused.Count);
        Assert.All(refused, r => Assert.Equal(TradingErrorCodes.InsufficientFunds, r.Body!["code"]!.GetValue<string>()));
        Assert.Equal((0, 0), TradingRig.Gold(await rig.WalletAsync("alice")));
    }

    [Fact]
    public async Task A_repeated_key_has_one_effect_and_a_reused_key_with_another_payload_is_refused()
    {
        await using var rig = await TradingRig.StartAsync();

        await rig.MintAsync("bob", TradingRig.Gold(500), key: "welcome-bonus");
        await rig.MintAsync("bob", TradingRig.Gold(500), key: "welcome-bonus");
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.AdminMint("bob"), "admin-1", new AdminAdjustment("welcome-bonus", TradingRig.Gold(9_999), "greedy"),
            HttpStatusCode.Conflict, TradingErrorCodes.IdempotencyConflict, admin: true);

        Assert.Equal((500, 0), TradingRig.Gold(await rig.WalletAsync("bob")));
        var ledger = await rig.OkAsync<List<LedgerEntryView>>(HttpMethod.Get, TradingRoutes.Ledger + "?after=0&limit=50", "bob");
        var entry = Assert.Single(ledger);
        Assert.Equal(500, entry.DeltaAvailable);
        Assert.Contains("admin mint by admin-1", entry.Reason, StringComparison.Ordinal);

        // One change, so one wallet event (version 1), carrying the balance after it; the replays published nothing.
        var changed = (await rig.NextEventAsync("trading.wallet.changed.v1"))["data"]!;
        Assert.Equal("bob", changed["playerId"]!.GetValue<string>());
        Assert.Equal(1, changed["sequence"]!.GetValue<long>());
        Assert.Equal("admin:mint:welcome-bonus", changed["key"]!.GetValue<string>());   // the ledger key of an admin mint
        var moved = Assert.Single(changed["entries"]!.AsArray());
        Assert.Equal("currency:GOLD", moved!["asset"]!.GetValue<string>());
        Assert.Equal(500, moved["availableAfter"]!.GetValue<long>());
        await rig.MintAsync("bob", TradingRig.Gold(1), key: "second");
        Assert.Equal(2, (await rig.NextEventAsync("trading.wallet.changed.v1"))["data"]!["sequence"]!.GetValue<long>());
    }

    [Fact]
    public async Task Admin_routes_and_grants_refuse_players_and_change_nothing()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("carol", TradingRig.Gold(100));

        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.AdminMint("carol"), "carol", new AdminAdjustment("self-mint", TradingRig.Gold(1_000_000), "free money"),
            HttpStatusCode.Forbidden, TradingErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.AdminBurn("dave"), "carol", new AdminAdjustment("grief", TradingRig.Gold(1), "grief"),
            HttpStatusCode.Forbidden, TradingErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Get, TradingRoutes.AdminWallet("dave"), "carol", null, HttpStatusCode.Forbidden, TradingErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.Grants, "carol", new GrantRequest("loot-1", "carol", TradingRig.Gold(5), "loot"),
            HttpStatusCode.Forbidden, TradingErrorCodes.Forbidden);

        Assert.Equal((100, 0), TradingRig.Gold(await rig.WalletAsync("carol")));
    }

    [Fact]
    public async Task Bad_amounts_and_keys_get_typed_errors_and_change_nothing()
    {
        await using var rig = await TradingRig.StartAsync();
        await rig.MintAsync("erin", TradingRig.Gold(100));

        foreach (var bad in new[] { TradingRig.Gold(0), TradingRig.Gold(-5), new Assets { Currencies = { ["gold"] = 5 } }, new Assets() })
        {
            await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.AdminMint("erin"), "admin-1", new AdminAdjustment(Guid.NewGuid().ToString("N"), bad, "bad"),
                HttpStatusCode.BadRequest, TradingErrorCodes.Invalid, admin: true);
        }
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.AdminMint("erin"), "admin-1", new AdminAdjustment("has spaces in it", TradingRig.Gold(1), "bad"),
            HttpStatusCode.BadRequest, TradingErrorCodes.Invalid, admin: true);
        await rig.ProblemAsync(HttpMethod.Post, TradingRoutes.AdminMint("erin"), "admin-1", new AdminAdjustment("overflow", TradingRig.Gold(long.MaxValue), "bad"),
            HttpStatusCode.BadRequest, TradingErrorCodes.Invalid, admin: true);

        Assert.Equal((100, 0), TradingRig.Gold(await rig.WalletAsync("erin")));
    }
}
