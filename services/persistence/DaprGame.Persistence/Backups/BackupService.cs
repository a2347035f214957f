using System.Diagnostics;
using System.Text.RegularExpressions;
using DaprGame.Contracts.Persistence;
using DaprGame.Persistence.Domain.Backup;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using DaprGame.Persistence.Infrastructure;
using DaprGame.Persistence.Ingest;
using Microsoft.Extensions.Options;

namespace DaprGame.Persistence.Backups;

/// <summary>
/// Online backups: the log 1..P and the views snapshot at P, captured at one instant while appends carry on, written
/// to an encrypted, checksummed archive (<see cref="BackupArchive"/>) in <see cref="PersistenceOptions.BackupFolder"/>.
/// The key is read from the Dapr secret store on each use (so a rotated secret takes effect without a restart) and
/// never logged. Restore writes an archive into an empty store; verify checks an archive without restoring it.
/// </summary>
public sealed partial class BackupService(LogKeeper keeper, BackupKeyProvider keys, IOptions<PersistenceOptions> options, TimeProvider time, ILogger<BackupService> logger)
{
    private readonly PersistenceOptions _options = options.Value;

    public async Task<BackupInfo> CreateAsync(string reason, CancellationToken cancellationToken)
    {
        var key = await KeyAsync(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var (records, snapshot) = keeper.Capture();
        var createdAt = time.GetUtcNow();
        var name = $"log-{records.Length:D12}-{createdAt:yyyyMMddTHHmmssfff}.dgbk";
        var summary = await ArchiveFile.WriteAsync(_options.BackupFolder, name, overwrite: false, file =>
            BackupArchive.WriteAsync(file, new BackupManifestInput(LogHead.Empty, createdAt, reason), records,
                SnapshotCodec.Encode(snapshot), key, cancellationToken), cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogBackup(logger, name, summary.RecordCount, summary.BytesWritten, elapsed);
        return new BackupInfo(name, summary.LastPosition, Convert.ToHexStringLower(summary.LastHash), summary.RecordCount, summary.BytesWritten,
            summary.Sha256, summary.SnapshotWatermark ?? 0, createdAt, elapsed);
    }

    public IReadOnlyList<string> List() =>
        Directory.Exists(_options.BackupFolder)
            ? [.. Directory.EnumerateFiles(_options.BackupFolder, "*.dgbk").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)]
            : [];

    public async Task<BackupVerifyResult> VerifyAsync(string name, CancellationToken cancellationToken)
    {
        await using var file = Open(name);
        var key = await KeyAsync(cancellationToken);
        var result = await BackupArchive.VerifyAsync(file, key, new BackupVerifyOptions(RebuildSnapshot: true), cancellationToken);
        return new BackupVerifyResult(name, result.IsValid, Camel(result.Failure), result.Detail, result.Chunk, result.FirstBadPosition, result.RecordCount);
    }

    public async Task<RestoreResult> RestoreAsync(string name, CancellationToken cancellationToken)
    {
        BackupContent content;
        await using (var file = Open(name))
        {
            if (!keeper.Ready)
            {
                throw new LogUnavailableException(keeper.Status().Problem ?? "the log is still being recovered");
            }
            var key = await KeyAsync(cancellationToken);
            content = await BackupArchive.ReadAsync(file, key, cancellationToken);
        }
        if (content.PreviousHead.Position != 0)
        {
            throw new RestoreRefusedException($"{name} starts at position {content.PreviousHead.Position + 1}; a restore needs an archive from position 1");
        }
        var snapshot = content.Snapshot is { } blob ? SnapshotCodec.Decode(blob) : null;
        var result = await keeper.RestoreAsync(content.Records, snapshot, cancellationToken);
        LogRestored(logger, name, result.Records, result.ElapsedMs);
        return result;
    }

    /// <summary>Backup names are file names this service made: letters, digits, dot, dash, underscore; nothing else reaches the disk.</summary>
    public static bool IsValidName(string name) => name.Length is > 0 and <= 128 && NamePattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    private FileStream Open(string name)
    {
        var path = Path.Combine(_options.BackupFolder, name);
        return File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true)
            : throw new FileNotFoundException($"no backup named {name}");
    }

    private Task<BackupKey> KeyAsync(CancellationToken cancellationToken) => keys.GetAsync(cancellationToken);

    private static string Camel(BackupFailure failure)
    {
        var text = failure.ToString();
        return char.ToLowerInvariant(text[0]) + text[1..];
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NamePattern();

    [LoggerMessage(Level = LogLevel.Information, Message = "backup {Name}: {Records} records, {Bytes} bytes, in {Milliseconds:F0} ms")]
    private static partial void LogBackup(ILogger logger, string name, long records, long bytes, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "restored {Name}: {Records} records in {Milliseconds:F0} ms")]
    private static partial void LogRestored(ILogger logger, string name, long records, double milliseconds);
}
