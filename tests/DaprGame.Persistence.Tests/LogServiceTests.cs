using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DaprGame.Contracts;
using DaprGame.Contracts.Persistence;
using DaprGame.Hosting;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;

namespace DaprGame.Persistence.Tests;

/// <summary>The log through the real service and sidecar: ingest, order, dedup, drops, restart, tamper evidence.</summary>
public sealed class LogServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_event_is_logged_once_in_its_stream_order_and_a_redelivery_adds_nothing()
    {
        await using var rig = await PersistenceRig.StartAsync();
        for (var offset = 1; offset <= 5; offset++)
        {
            await rig.PostAsync("room-1", offset, "alice", $"message {offset}");
        }
        await rig.WaitForAsync(5);
        // The same five events again, as an outbox retry publishes them: new CloudEvents, same event ids.
        for (var offset = 1; offset <= 5; offset++)
        {
            await rig.PostAsync("room-1", offset, "alice", $"message {offset}");
        }
        await rig.PostAsync("room-1", 6, "bob", "after the redelivery");
        var status = await rig.WaitForAsync(6);

        var records = await rig.StoredRecordsAsync();
        Assert.Equal(6, records.Count);
        Assert.Equal(6, status.Position);
        Assert.Equal([1L, 2, 3, 4, 5, 6], records.Select(r => r.Sequence));
        Assert.Equal([1L, 2, 3, 4, 5, 6], records.Select(r => r.StreamVersion));
        Assert.All(records, r => Assert.Equal(RecordFlags.None, r.Flags));
        Assert.True(ChainVerifier.Verify(records).IsValid);
        Assert.True(status.Duplicates >= 5, $"duplicates {status.Duplicates}");

        var page = await rig.GetAsync<ChannelMessagesPage>(PersistenceRoutes.ChannelMessages("room-1") + "?from=2&limit=3");
        Assert.Equal([2L, 3, 4], page.Messages.Select(m => m.Offset));
        Assert.Equal("message 3", page.Messages[1].Text);

        var verification = await rig.GetAsync<ChainVerification>(PersistenceRoutes.Verify);
        Assert.True(verification.Valid);
        Assert.Equal(6, verification.Records);
    }

    [Fact]
    public async Task An_event_that_would_leave_a_gap_waits_for_the_missing_one()
    {
        await using var rig = await PersistenceRig.StartAsync(new() { ["Persistence:GapGrace"] = "00:01:00" });
        await rig.PostAsync("room-gap", 1, "alice", "one");
        await rig.PostAsync("room-gap", 3, "alice", "three");
        await rig.WaitForAsync(1);
        await rig.PostAsync("room-gap", 2, "alice", "two");
        await rig.WaitForAsync(3);

        var records = await rig.StoredRecordsAsync();
        Assert.Equal([1L, 2, 3], records.Select(r => r.Sequence));
        Assert.All(records, r => Assert.Equal(RecordFlags.None, r.Flags));
        Assert.True((await rig.StatusAsync()).HeldForGaps >= 1);
    }

    [Fact]
    public async Task A_gap_that_never_fills_is_appended_after_the_grace_and_flagged()
    {
        await using var rig = await PersistenceRig.StartAsync(new() { ["Persistence:GapGrace"] = "00:00:00.200" });
        await rig.PostAsync("room-lost", 1, "alice", "one");
        await rig.PostAsync("room-lost", 4, "alice", "four");
        await rig.WaitForAsync(2);

        var records = await rig.StoredRecordsAsync();
        Assert.Equal([1L, 4], records.Select(r => r.Sequence));
        Assert.Equal(RecordFlags.Gap, records[1].Flags);
    }

    [Fact]
    public async Task Malformed_deliveries_are_dropped_counted_and_change_nothing()
    {
        await using var rig = await PersistenceRig.StartAsync();
        await rig.PublishAsync(Topics.Chat, "chat.message.posted.v1", new { text = "no stream, no sequence" });
        await rig.PublishAsync(Topics.Chat, "chat.message.posted.v1", new { streamId = "chat/x", sequence = -1, occurredAt = Events.At });
        await rig.PublishAsync(Topics.Chat, "chat.message.posted.v1", new { streamId = "chat/x", sequence = 1, occurredAt = "not a time" });
        await rig.PostAsync("room-ok", 1, "alice", "fine");
        var status = await rig.WaitForAsync(1);

        Assert.Equal(1, status.Position);
        Assert.Equal(3, status.Dropped);
        Assert.Single(await rig.StoredRecordsAsync());
    }

    [Fact]
    public async Task A_restart_recovers_the_log_and_views_from_the_store_and_the_chain_continues()
    {
        await using var rig = await PersistenceRig.StartAsync(new() { ["Persistence:SnapshotEvery"] = "4" });
        for (var v = 1; v <= 6; v++)
        {
            await rig.WalletAsync("alice", v, 100 + v * 10);
        }
        await rig.MatchEndedAsync("m-1", "alice", "bob");
        var before = await rig.WaitForAsync(7);

        await rig.RestartAsync();
        var after = await rig.StatusAsync(7);
        Assert.True(after.Ready);
        Assert.Equal(before.Position, after.Position);
        Assert.Equal(before.HeadHash, after.HeadHash);
        Assert.Equal(before.ViewsHash, after.ViewsHash);
        Assert.True(after.SnapshotWatermark >= 4, $"recovery started from the snapshot at {after.SnapshotWatermark}");

        await rig.WalletAsync("alice", 7, 500);
        await rig.WaitForAsync(8);
        var records = await rig.StoredRecordsAsync();
        Assert.True(ChainVerifier.Verify(records).IsValid);
        var profile = await rig.GetAsync<JsonObject>(PersistenceRoutes.Profile("alice"));
        Assert.Equal(500, profile["assets"]!["currency:GOLD"]!["available"]!.GetValue<long>());
        Assert.Equal(1, profile["wins"]!.GetValue<int>());
    }

    [Fact]
    public async Task Editing_a_stored_record_breaks_the_chain_at_its_position_and_stops_appends_after_a_restart()
    {
        await using var rig = await PersistenceRig.StartAsync();
        for (var offset = 1; offset <= 5; offset++)
        {
            await rig.PostAsync("room-t", offset, "alice", $"m{offset}");
        }
        await rig.WaitForAsync(5);

        var stored = (await rig.Store.ReadRecordAsync(3, Ct))!;
        var forged = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(stored.Data).Replace("m3", "m9", StringComparison.Ordinal));
        await rig.StoreClient.SaveStateAsync(Components.StateStore, LogKeys.Record(3), stored with { Data = forged },
            cancellationToken: Ct);

        var verification = await rig.GetAsync<ChainVerification>(PersistenceRoutes.Verify);
        Assert.False(verification.Valid);
        Assert.Equal(3, verification.FirstBadPosition);

        await rig.RestartAsync();
        var status = await rig.StatusAsync(atLeast: 0);
        using var ready = await rig.Http.GetAsync("readyz", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.False(status.Ready);
        Assert.Contains("position 3", status.Problem, StringComparison.Ordinal);
        using var rollback = await rig.Http.PostAsJsonAsync(PersistenceRoutes.Rollback.TrimStart('/'), new RollbackRequest(2, "ops", "tamper"), ServiceDefaults.JsonOptions, Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rollback.StatusCode);
    }

    [Fact]
    public async Task Rebuild_and_snapshot_plus_tail_equal_the_incremental_views()
    {
        await using var rig = await PersistenceRig.StartAsync();
        for (var i = 1; i <= 12; i++)
        {
            await rig.FillAsync(i, i % 2 == 0 ? "alice" : "bob", i % 2 == 0 ? "bob" : "alice", 100 + i, 1);
        }
        await rig.WaitForAsync(12);
        var snapshot = await rig.PostAsync<SnapshotResult>(PersistenceRoutes.Snapshot);
        Assert.Equal(12, snapshot.Watermark);
        Assert.True(snapshot.TailReplayEqualsFull);
        Assert.Equal(snapshot.Hash, snapshot.RestoredHash);

        for (var i = 13; i <= 15; i++)
        {
            await rig.FillAsync(i, "carol", "alice", 90, 2);
        }
        await rig.WaitForAsync(15);
        var rebuild = await rig.PostAsync<RebuildResult>(PersistenceRoutes.Rebuild);
        Assert.True(rebuild.Equal, $"rebuilt {rebuild.RebuiltHash} live {rebuild.LiveHash}");
        Assert.Equal(ViewSet.Rebuild(await rig.StoredRecordsAsync()).ContentHash(), rebuild.LiveHash);

        var trades = await rig.GetAsync<List<JsonObject>>(PersistenceRoutes.Trades("carol") + "?limit=2");
        Assert.Equal(2, trades.Count);
        Assert.Equal("f-15", trades[0]["fillId"]!.GetValue<string>());
        var candles = await rig.GetAsync<List<JsonObject>>(PersistenceRoutes.Candles("iron-sword-GOLD"));
        Assert.NotEmpty(candles);
    }

    [Fact]
    public async Task A_views_snapshot_larger_than_a_dapr_request_is_stored_in_parts_and_recovery_uses_it()
    {
        await using var rig = await PersistenceRig.StartAsync(new() { ["Persistence:SnapshotEvery"] = "1000000" });
        var text = new string('x', 40_000);
        for (var offset = 1; offset <= 130; offset++)
        {
            await rig.PostAsync("room-big", offset, "alice", $"{offset}:{text}");
        }
        await rig.WaitForAsync(130);

        var snapshot = await rig.PostAsync<SnapshotResult>(PersistenceRoutes.Snapshot);
        Assert.True(snapshot.Bytes > 4 * 1024 * 1024, $"the snapshot is {snapshot.Bytes} bytes");
        Assert.True(snapshot.TailReplayEqualsFull);
        Assert.Equal(snapshot.Hash, snapshot.RestoredHash);

        await rig.RestartAsync();
        var after = await rig.StatusAsync(atLeast: 130);
        Assert.Equal(130, after.SnapshotWatermark);
        Assert.Equal(snapshot.Hash, after.ViewsHash);
    }
}
