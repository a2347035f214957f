using System.Net;
using System.Net.Http.Json;
using DaprGame.Contracts.Persistence;
using DaprGame.Hosting;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;

namespace DaprGame.Persistence.Tests;

/// <summary>RELIABILITY #11: an online backup, restored into an empty store, verified, and a damaged copy refused.</summary>
public sealed class BackupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_backup_taken_under_write_load_restores_to_a_replay_up_to_its_position()
    {
        await using var source = await PersistenceRig.StartAsync();
        const int Streams = 8, PerStream = 60;
        var writes = Task.Run(async () =>
        {
            for (var v = 1; v <= PerStream; v++)
            {
                await Task.WhenAll(Enumerable.Range(0, Streams).Select(s => source.WalletAsync($"p{s}", v, v * 10 + s)));
            }
        }, Ct);
        await source.WaitForAsync(100);
        var backup = await source.PostAsync<BackupInfo>(PersistenceRoutes.Backups + "?reason=test");
        await writes;
        var final = await source.WaitForAsync(Streams * PerStream);

        Assert.True(backup.ToPosition >= 100, $"the backup holds {backup.ToPosition} records");
        Assert.True(final.Position > backup.ToPosition, $"writes kept flowing: {final.Position} after a backup at {backup.ToPosition}");
        Assert.Equal(backup.ToPosition, backup.Records);
        var records = await source.StoredRecordsAsync();
        var expected = ViewSet.Rebuild(records[..(int)backup.ToPosition]).ContentHash();

        var verified = await source.PostAsync<BackupVerifyResult>(PersistenceRoutes.BackupVerify(backup.Name));
        Assert.True(verified.Valid, $"{verified.Failure}: {verified.Detail}");
        Assert.Equal(backup.ToPosition, verified.Records);

        await using var target = await PersistenceRig.StartAsync();
        Directory.CreateDirectory(Path.Combine(target.Folder, "backups"));
        var archive = Path.Combine(source.Folder, "backups", backup.Name);
        File.Copy(archive, Path.Combine(target.Folder, "backups", backup.Name));
        var restored = await target.PostAsync<RestoreResult>(PersistenceRoutes.Restore, new RestoreRequest(backup.Name));
        Assert.Equal(backup.ToPosition, restored.Position);
        Assert.Equal(expected, restored.ViewsHash);
        var targetRecords = await target.StoredRecordsAsync();
        Assert.Equal(records[..(int)backup.ToPosition].Select(r => Convert.ToHexString(r.Hash)), targetRecords.Select(r => Convert.ToHexString(r.Hash)));
        Assert.True((await target.GetAsync<ChainVerification>(PersistenceRoutes.Verify)).Valid);
        var status = await target.StatusAsync();
        Assert.Equal((backup.ToPosition, expected), (status.Position, status.ViewsHash));

        // The restored log takes new events where the archive ended.
        await target.WalletAsync("p0", PerStream + 1, 1);
        await target.WaitForAsync(backup.ToPosition + 1);

        // A store that holds a log is never overwritten.
        using (var again = await target.Http.PostAsJsonAsync(PersistenceRoutes.Restore.TrimStart('/'), new RestoreRequest(backup.Name), ServiceDefaults.JsonOptions, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        // One flipped bit anywhere in the archive is found by verify, and such an archive is never restored.
        var bytes = await File.ReadAllBytesAsync(archive, Ct);
        var random = new Random(7);
        await using var empty = await PersistenceRig.StartAsync();
        Directory.CreateDirectory(Path.Combine(empty.Folder, "backups"));
        for (var i = 0; i < 3; i++)
        {
            var damaged = (byte[])bytes.Clone();
            var at = random.Next(damaged.Length);
            damaged[at] ^= (byte)(1 << random.Next(8));
            var name = $"damaged-{i}.dgbk";
            await File.WriteAllBytesAsync(Path.Combine(source.Folder, "backups", name), damaged, Ct);
            await File.WriteAllBytesAsync(Path.Combine(empty.Folder, "backups", name), damaged, Ct);
            var check = await source.PostAsync<BackupVerifyResult>(PersistenceRoutes.BackupVerify(name));
            Assert.False(check.Valid, $"a flip at byte {at} went unnoticed");
            using var refused = await empty.Http.PostAsJsonAsync(PersistenceRoutes.Restore.TrimStart('/'), new RestoreRequest(name), ServiceDefaults.JsonOptions, Ct);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        }
        Assert.Equal(0, (await empty.StatusAsync()).Position);
        Assert.Empty(await empty.StoredRecordsAsync());
    }

    [Fact]
    public async Task Backup_names_that_are_not_archives_are_refused()
    {
        await using var rig = await PersistenceRig.StartAsync();
        using (var traversal = await rig.Http.PostAsJsonAsync(PersistenceRoutes.Restore.TrimStart('/'), new RestoreRequest("../state.db"), ServiceDefaults.JsonOptions, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, traversal.StatusCode);
        }
        using var missing = await rig.Http.PostAsJsonAsync(PersistenceRoutes.Restore.TrimStart('/'), new RestoreRequest("nope.dgbk"), ServiceDefaults.JsonOptions, Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
