using DaprGame.Contracts;
using DaprGame.Contracts.Combat;

namespace DaprGame.Trading.Tests;

/// <summary>Combat's loot events become items in the killer's wallet, exactly once.</summary>
public sealed class LootTests
{
    private static CombatLootDropped Loot(string lootId, string player, string item, int quantity) => new()
    {
        Id = "combat/match/m1:" + lootId, OccurredAt = DateTimeOffset.UtcNow, StreamId = "combat/match/m1", Sequence = 5,
        MatchId = "m1", LootId = lootId, Tick = 120, PlayerId = player, Item = item, Quantity = quantity,
    };

    [Fact]
    public async Task Dropped_loot_is_credited_once_however_often_it_is_delivered_and_bad_or_other_events_change_nothing()
    {
        await using var rig = await TradingRig.StartAsync();

        // Other combat events are not loot, and forged or oversized loot is dropped: none of them may credit anything.
        await rig.PublishAsync(Topics.Combat, CombatPlayerKilled.EventType, new { matchId = "m1", victimId = "winner", tick = 119, weapon = "rifle" });
        await rig.PublishAsync(Topics.Combat, CombatLootDropped.EventType, Loot("loot:m1:119:0", "winner", "iron-sword", 1_000_000));
        await rig.PublishAsync(Topics.Combat, CombatLootDropped.EventType, Loot("loot:m1:119:1", "winner", "Not An Item!", 1));

        var loot = Loot("loot:m1:120:0", "winner", "iron-sword", 2);
        await rig.PublishAsync(Topics.Combat, CombatLootDropped.EventType, loot);
        await rig.PublishAsync(Topics.Combat, CombatLootDropped.EventType, loot);   // a redelivery
        var credited = (await rig.NextEventAsync("trading.wallet.changed.v1"))["data"]!;
        Assert.Equal("winner", credited["playerId"]!.GetValue<string>());
        Assert.Equal("loot:m1:120:0", credited["key"]!.GetValue<string>());

        // A later, different drop is the next change: had the redelivery or the bad drops credited anything, it would not be version 2.
        await rig.PublishAsync(Topics.Combat, CombatLootDropped.EventType, Loot("loot:m1:130:0", "winner", "health-potion", 1));
        var next = (await rig.NextEventAsync("trading.wallet.changed.v1"))["data"]!;
        Assert.Equal(2, next["sequence"]!.GetValue<long>());
        var wallet = await rig.WalletAsync("winner");
        Assert.Equal((2, 0), TradingRig.Swords(wallet));
        Assert.Equal(1, Assert.Single(wallet.Stacks, s => s.ItemType == "health-potion").Available);
        var ledger = await rig.OkAsync<List<Contracts.Trading.LedgerEntryView>>(HttpMethod.Get, Contracts.Trading.TradingRoutes.Ledger + "?after=0&limit=50", "winner");
        Assert.Equal(2, ledger.Count);
        Assert.Contains("loot from match m1", ledger[0].Reason, StringComparison.Ordinal);
    }
}
