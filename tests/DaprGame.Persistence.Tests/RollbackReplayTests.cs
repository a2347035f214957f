using System.Net;
using System.Net.Http.Json;
using DaprGame.Contracts.Persistence;
using DaprGame.Hosting;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;

namespace DaprGame.Persistence.Tests;

public sealed class RollbackReplayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rollback_makes_the_views_a_replay_to_the_target_and_keeps_later_events_marked()
    {
        await using var rig = await PersistenceRig.StartAsync();
        for (var v = 1; v <= 10; v++)
        {
            await rig.WalletAsync("alice", v, v * 100);
        }
        await rig.WaitForAsync(10);

        var result = await rig.PostAsync<RollbackResult>(PersistenceRoutes.Rollback, new RollbackRequest(6, "ops-anna", "duplicated payout"));
        Assert.Equal(11, result.MarkerPosition);
        Assert.Equal(4, result.RolledBack);

        var records = await rig.StoredRecordsAsync();
        Assert.Equal(11, records.Count);
        Assert.Equal(RecordKind.Rollback, records[10].Kind);
        var marker = RollbackMarker.FromRecord(records[10]);
        Assert.Equal(("ops-anna", "duplicated payout", 6L), (marker.By, marker.Reason, marker.ToPosition));
        Assert.Equal(ViewSet.Rebuild(records[..6]).ContentHash(), result.ViewsHash);
        Assert.Equal(result.ViewsHash, (await rig.StatusAsync()).ViewsHash);
        var profile = await rig.GetAsync<System.Text.Json.Nodes.JsonObject>(PersistenceRoutes.Profile("alice"));
        Assert.Equal(600, profile["assets"]!["currency:GOLD"]!["available"]!.GetValue<long>());

        // Later events are still there, replayable when asked for, and marked.
        var replay = await rig.PostAsync<ReplayResult>(PersistenceRoutes.Replay, new ReplayRequest("trading/wallet/alice", 1, null, null, IncludeRolledBack: true));
        Assert.Equal(10, replay.Published);
        var received = new List<PersistenceEventReplayed>();
        while (received.Count < 10)
        {
            received.Add(await rig.Replayed.Reader.ReadAsync(Ct));
        }
        Assert.Equal([7L, 8, 9, 10], received.Where(e => e.RolledBack).Select(e => e.Position).Order());
        Assert.All(received, e => Assert.Equal("trading.wallet.changed.v1", e.OriginalType));
        Assert.Equal("trading/wallet/alice:3", received.Single(e => e.Position == 3).OriginalId);
        Assert.Equal(300, received.Single(e => e.Position == 3).Data.GetProperty("entries")[0].GetProperty("availableAfter").GetInt64());

        // Without the flag, a replay tells the history as it now stands.
        var live = await rig.PostAsync<ReplayResult>(PersistenceRoutes.Replay, new ReplayRequest(null, null, 1, 100));
        Assert.Equal(6, live.Published);
        Assert.Equal((1L, 6L), (live.FirstPosition, live.LastPosition));
    }

    [Fact]
    public async Task A_bad_rollback_or_replay_is_refused_and_changes_nothing()
    {
        await using var rig = await PersistenceRig.StartAsync();
        for (var v = 1; v <= 3; v++)
        {
            await rig.WalletAsync("bob", v, v);
        }
        var before = await rig.WaitForAsync(3);

        foreach (var bad in new object?[] { new RollbackRequest(3, "ops", "at the head"), new RollbackRequest(-1, "ops", "negative"), new RollbackRequest(1, "", "no one"), new { toPosition = 1 } })
        {
            using var response = await rig.Http.PostAsJsonAsync(PersistenceRoutes.Rollback.TrimStart('/'), bad, ServiceDefaults.JsonOptions, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        using (var replay = await rig.Http.PostAsJsonAsync(PersistenceRoutes.Replay.TrimStart('/'), new ReplayRequest(null, null, 0, null), ServiceDefaults.JsonOptions, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        }
        var after = await rig.StatusAsync();
        Assert.Equal((before.Position, before.ViewsHash), (after.Position, after.ViewsHash));
        Assert.Equal(3, (await rig.StoredRecordsAsync()).Count);
    }
}
