using DaprGame.Contracts.Persistence;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;

namespace DaprGame.Persistence.Tests;

/// <summary>Retention moves a stream kind's old records out of the live store into a verified archive, losing nothing.</summary>
public sealed class RetentionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Old_records_move_to_an_archive_the_live_store_shrinks_and_a_restart_still_has_the_whole_history()
    {
        await using var rig = await PersistenceRig.StartAsync(new()
        {
            ["Persistence:Retention:Every"] = "00:00:00",
            ["Persistence:Retention:Policies:0:StreamPrefix"] = "chat/",
            ["Persistence:Retention:Policies:0:KeepLast"] = "2",
        });
        for (var offset = 1; offset <= 5; offset++)
        {
            await rig.PostAsync("room-r", offset, "alice", $"old {offset}");
        }
        // Topics are delivered independently: wait for each part so the log's order is the one described below.
        await rig.WaitForAsync(5);
        await rig.WalletAsync("alice", 1, 50);
        await rig.WaitForAsync(6);
        await rig.PostAsync("room-r", 6, "alice", "new 6");
        await rig.PostAsync("room-r", 7, "alice", "new 7");
        var before = await rig.WaitForAsync(8);
        var all = await rig.StoredRecordsAsync();

        // room-r keeps its newest 2 (7, 8 in the log); the wallet stream has no policy, so the prefix stops before it.
        var result = await rig.PostAsync<RetentionResult>(PersistenceRoutes.Retention);
        Assert.Equal((5L, 1L, 5L, 6L), (result.Archived, result.FromPosition, result.ToPosition, result.LiveFrom));
        for (var p = 1; p <= 5; p++)
        {
            Assert.Null(await rig.Store.ReadRecordAsync(p, Ct));
        }
        Assert.NotNull(await rig.Store.ReadRecordAsync(6, Ct));
        var verification = await rig.GetAsync<ChainVerification>(PersistenceRoutes.Verify);
        Assert.True(verification.Valid, verification.Problem);
        Assert.Equal(3, verification.Records);
        var archive = await rig.PostAsync<BackupVerifyResult>(PersistenceRoutes.BackupVerify(result.Archive!));
        Assert.True(archive.Valid, $"{archive.Failure}: {archive.Detail}");
        Assert.Equal(5, archive.Records);
        Assert.Equal(0, (await rig.PostAsync<RetentionResult>(PersistenceRoutes.Retention)).Archived);

        // The history a player reads is unchanged, and a restart reads the archive back before the live tail.
        var page = await rig.GetAsync<ChannelMessagesPage>(PersistenceRoutes.ChannelMessages("room-r") + "?from=1&limit=10");
        Assert.Equal(7, page.Messages.Count);
        await rig.RestartAsync();
        var after = await rig.StatusAsync(atLeast: 8);
        Assert.True(after.Ready, after.Problem);
        Assert.Equal((before.Position, before.HeadHash, before.ViewsHash), (after.Position, after.HeadHash, after.ViewsHash));
        Assert.Equal(ViewSet.Rebuild(all).ContentHash(), after.ViewsHash);
        Assert.True((await rig.PostAsync<RebuildResult>(PersistenceRoutes.Rebuild)).Equal);
        await rig.PostAsync("room-r", 8, "bob", "after the restart");
        await rig.WaitForAsync(9);
        Assert.True((await rig.GetAsync<ChainVerification>(PersistenceRoutes.Verify)).Valid);

        // Without its archive, the log cannot vouch for its history: it says so and takes no appends.
        File.Delete(Path.Combine(rig.Folder, "backups", result.Archive!));
        await rig.RestartAsync();
        var broken = await rig.StatusAsync(atLeast: 0);
        Assert.False(broken.Ready);
        Assert.Contains("missing", broken.Problem, StringComparison.Ordinal);
        Assert.Equal(RecordKind.Event, all[0].Kind);
    }
}
