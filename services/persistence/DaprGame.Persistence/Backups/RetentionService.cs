using Dapr;
using DaprGame.Contracts.Persistence;
using DaprGame.Persistence.Domain.Backup;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Retention;
using DaprGame.Persistence.Infrastructure;
using DaprGame.Persistence.Ingest;
using Microsoft.Extensions.Options;

namespace DaprGame.Persistence.Backups;

/// <summary>
/// Retention: the oldest records that every policy lets go (a contiguous prefix, <see cref="RetentionRules"/>) move from
/// the live state store into an encrypted retention archive in the backup folder. The archive is written and verified
/// first, then the archive point (<see cref="LogStore.ArchiveKey"/>) is saved, then the records' keys are deleted — a
/// crash between those steps leaves keys that are merely redundant. Start-up reads the archives back before the live
/// tail, so the chain, rebuilds and rollbacks still see the whole history; what shrinks is the live store.
/// </summary>
public sealed partial class RetentionService(
    LogKeeper keeper, LogStore store, BackupKeyProvider keys, IOptions<PersistenceOptions> options, TimeProvider time, ILogger<RetentionService> logger)
    : BackgroundService
{
    private readonly PersistenceOptions _options = options.Value;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public async Task<RetentionResult> RunAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            return await RunOnceAsync(cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Retention.Every <= TimeSpan.Zero || _options.Retention.Policies.Count == 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(_options.Retention.Every, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (keeper.Ready)
                    {
                        await RunAsync(stoppingToken);
                    }
                }
                catch (Exception e) when (e is DaprException or IOException or InvalidOperationException or BackupException)
                {
                    LogRetentionFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<RetentionResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!keeper.Ready)
        {
            throw new LogUnavailableException(keeper.Status().Problem ?? "the log is still being recovered");
        }
        var point = await store.ReadArchivePointAsync(cancellationToken) ?? new ArchivePoint(0, LogHead.Empty.Hash, []);
        var policies = _options.Retention.Policies
            .Where(p => p.StreamPrefix.Length > 0)
            .Select(p => new RetentionPolicy(p.StreamPrefix, p.KeepLast, p.KeepFor))
            .ToList();
        var (records, views) = keeper.Capture();
        var prefix = RetentionRules.ArchivablePrefix(records, policies, time.GetUtcNow(), views.Watermark);
        if (prefix <= point.Position)
        {
            return new RetentionResult(0, 0, 0, null, point.Position + 1);
        }

        var key = await keys.GetAsync(cancellationToken);
        var name = $"retention-{point.Position + 1:D12}-{prefix:D12}.dgbk";
        var range = records[(int)point.Position..(int)prefix];
        await ArchiveFile.WriteAsync(_options.BackupFolder, name, overwrite: true, file =>
            BackupArchive.WriteAsync(file, new BackupManifestInput(new LogHead(point.Position, point.Hash), time.GetUtcNow(), "retention"),
                range, null, key, cancellationToken), cancellationToken);
        var path = Path.Combine(_options.BackupFolder, name);
        await using (var check = File.OpenRead(path))
        {
            var verification = await BackupArchive.VerifyAsync(check, key, cancellationToken: cancellationToken);
            if (!verification.IsValid)
            {
                throw new InvalidOperationException($"retention archive {name} did not verify ({verification.Failure}); nothing was removed");
            }
        }
        await store.SaveArchivePointAsync(new ArchivePoint(prefix, records[prefix - 1].Hash, [.. point.Archives, name]), cancellationToken);
        await store.DeleteRecordsAsync(point.Position + 1, prefix, 500, cancellationToken);
        LogArchived(logger, range.Length, point.Position + 1, prefix, name);
        return new RetentionResult(range.Length, point.Position + 1, prefix, name, prefix + 1);
    }

    /// <summary>The records of the retention archives, in order, checked against the archive point they lead to.</summary>
    public static async Task<List<LogRecord>> ReadArchivedAsync(ArchivePoint point, string folder, BackupKey key, CancellationToken cancellationToken)
    {
        var records = new List<LogRecord>((int)point.Position);
        foreach (var name in point.Archives)
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path))
            {
                throw new InvalidDataException($"retention archive {name} (records up to {point.Position}) is missing from {folder}");
            }
            await using var file = File.OpenRead(path);
            var content = await BackupArchive.ReadAsync(file, key, cancellationToken);
            if (content.PreviousHead.Position != records.Count)
            {
                throw new InvalidDataException($"retention archive {name} starts after position {content.PreviousHead.Position}, expected {records.Count}");
            }
            records.AddRange(content.Records);
        }
        if (records.Count != point.Position || (records.Count > 0 && !records[^1].Hash.AsSpan().SequenceEqual(point.Hash)))
        {
            throw new InvalidDataException($"the retention archives end at {records.Count}, the archive point says {point.Position}");
        }
        return records;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "retention: {Records} records ({From}..{To}) moved to {Archive}")]
    private static partial void LogArchived(ILogger logger, int records, long from, long to, string archive);

    [LoggerMessage(Level = LogLevel.Warning, Message = "retention run failed, nothing removed beyond what was archived: {Reason}")]
    private static partial void LogRetentionFailed(ILogger logger, string reason);
}
