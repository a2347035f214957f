using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Backup;

/// <summary>
/// What the host says about an archive it is about to write. The archived range starts right after
/// <see cref="PreviousHead"/> (<see cref="LogHead.Empty"/> for a backup from position 1; the archive marker's head for
/// a later range), which is stored so the chain can be verified from there.
/// </summary>
public sealed record BackupManifestInput(LogHead PreviousHead, DateTimeOffset CreatedAt, string Reason)
{
    /// <summary>Plaintext bytes per chunk; each chunk is sealed on its own, so a reader holds one chunk at a time.</summary>
    public int ChunkSize { get; init; } = BackupArchive.DefaultChunkSize;
}

/// <summary>An archive's manifest as read back: the opening part (written first) and the closing counts (written last).</summary>
public sealed record BackupManifest(
    int FormatVersion,
    string ArchiveId,
    string KeyFingerprint,
    DateTimeOffset CreatedAt,
    string Reason,
    LogHead PreviousHead,
    long RecordCount,
    long LastPosition,
    byte[] LastHash,
    long? SnapshotWatermark)
{
    /// <summary>The first archived position (one past <see cref="PreviousHead"/>).</summary>
    public long FromPosition => PreviousHead.Position + 1;
}

/// <summary>
/// What the writer wrote. <see cref="Chain"/> is the chain check of the records as they were archived: the archive is a
/// faithful copy either way, but a host should alert on a broken chain rather than discover it at restore time.
/// </summary>
public sealed record BackupSummary(
    string ArchiveId,
    long RecordCount,
    long BytesWritten,
    string Sha256,
    long LastPosition,
    byte[] LastHash,
    long? SnapshotWatermark,
    ChainReport Chain);

/// <summary>A whole archive read into memory (<see cref="BackupArchive.ReadAsync"/>); for large archives use <see cref="BackupReader"/>.</summary>
public sealed record BackupContent(BackupManifest Manifest, IReadOnlyList<LogRecord> Records, byte[]? Snapshot)
{
    public LogHead PreviousHead => Manifest.PreviousHead;
}

/// <param name="RebuildSnapshot">
/// Also rebuild the views from the archived records up to the snapshot's watermark and compare content hashes. It
/// costs a full replay and keeps those records in memory, so it is off by default; it applies only to archives starting
/// at position 1 (a later range lacks the records a rebuild needs) — <see cref="BackupVerification.SnapshotRebuilt"/>
/// says whether it ran. Without it a snapshot is still decoded and its own hash checked.
/// </param>
public sealed record BackupVerifyOptions(bool RebuildSnapshot = false);

/// <summary>The result of <see cref="BackupArchive.VerifyAsync"/>: valid, or the first problem found, plus what was read.</summary>
public sealed record BackupVerification(
    BackupFailure Failure,
    string? Detail,
    long? Chunk,
    long? Offset,
    long? FirstBadPosition,
    long RecordCount,
    long ChunkCount,
    long BytesRead,
    bool SnapshotRebuilt,
    BackupManifest? Manifest)
{
    public bool IsValid => Failure == BackupFailure.None;
}
