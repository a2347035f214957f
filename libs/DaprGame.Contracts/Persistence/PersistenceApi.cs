namespace DaprGame.Contracts.Persistence;

/// <summary>
/// The persistence service's HTTP routes. History routes answer players' questions through the gateway (which puts
/// the verified player id in the path, never the client); <c>/v1/admin/…</c> routes are for operators and services by
/// service invocation only — the gateway never forwards them.
/// </summary>
public static class PersistenceRoutes
{
    public const string Status = "/v1/admin/status";
    public const string Verify = "/v1/admin/verify";
    public const string Rebuild = "/v1/admin/rebuild";
    public const string Rollback = "/v1/admin/rollback";
    public const string Replay = "/v1/admin/replay";
    public const string Snapshot = "/v1/admin/snapshot";
    public const string Backups = "/v1/admin/backups";
    public const string Restore = "/v1/admin/restore";
    public const string Retention = "/v1/admin/retention";

    public static string BackupVerify(string name) => $"/v1/admin/backups/{Uri.EscapeDataString(name)}/verify";

    public static string Profile(string playerId) => $"/v1/players/{Uri.EscapeDataString(playerId)}/profile";

    public static string Matches(string playerId) => $"/v1/players/{Uri.EscapeDataString(playerId)}/matches";

    public static string Trades(string playerId) => $"/v1/players/{Uri.EscapeDataString(playerId)}/trades";

    /// <summary>GET <c>?from={offset}&amp;limit={n}</c>: a channel's messages from an offset, oldest first.</summary>
    public static string ChannelMessages(string channelId) => $"/v1/channels/{Uri.EscapeDataString(channelId)}/messages";

    public static string Candles(string instrument) => $"/v1/instruments/{Uri.EscapeDataString(instrument)}/candles";
}

/// <summary>
/// Where the log and its views stand. <see cref="Position"/> is the last appended record; <see cref="Watermark"/> the
/// last one the views reflect (equal once ingest is idle). <see cref="Lag"/> is publish (the event's
/// <c>occurredAt</c>) to visible-in-view time over the recent appends.
/// </summary>
public sealed record LogStatus(
    bool Ready,
    long Position,
    string HeadHash,
    long Watermark,
    string ViewsHash,
    long SnapshotWatermark,
    long Appended,
    long Duplicates,
    long Conflicts,
    long Dropped,
    long HeldForGaps,
    long SkippedByViews,
    double RecoveredInMs,
    int Recoveries,
    string? Problem,
    IngestLag Lag);

public sealed record IngestLag(long Count, double P50Ms, double P99Ms, double MaxMs);

/// <summary>The hash chain as read back from the state store: valid, or the first bad position and why.</summary>
public sealed record ChainVerification(bool Valid, long Records, long FirstBadPosition, string? Problem);

/// <summary>A rebuild of every view from position 0 compared with the views kept incrementally.</summary>
public sealed record RebuildResult(long Watermark, string RebuiltHash, string LiveHash, bool Equal, long Events, double ElapsedMs);

public sealed record SnapshotResult(long Watermark, string Hash, long Bytes, string RestoredHash, bool TailReplayEqualsFull);

public sealed record RollbackRequest(long ToPosition, string By, string Reason);

public sealed record RollbackResult(long MarkerPosition, long ToPosition, long RolledBack, string ViewsHash);

/// <summary>
/// Which events to republish on <see cref="Topics.Replay"/>: one stream from a version, or a position range. Rolled-back
/// events are left out unless asked for.
/// </summary>
public sealed record ReplayRequest(string? StreamId, long? FromVersion, long? FromPosition, long? ToPosition, bool IncludeRolledBack = false);

public sealed record ReplayResult(string Topic, long Published, long FirstPosition, long LastPosition);

/// <summary>An archive of the log (positions 1..<see cref="ToPosition"/>) and a views snapshot, encrypted and checksummed.</summary>
public sealed record BackupInfo(
    string Name, long ToPosition, string LastHash, long Records, long Bytes, string Sha256, long SnapshotWatermark,
    DateTimeOffset CreatedAt, double ElapsedMs);

/// <summary>
/// An archive checked end to end with the backup key: checksum, every chunk's seal, the records' hash chain and the
/// views snapshot against a rebuild. <see cref="Failure"/>: <c>none</c>, <c>wrongKey</c>, <c>tampered</c>,
/// <c>truncated</c>, <c>chainBroken</c>, <c>snapshotMismatch</c>, <c>unsupportedVersion</c>, <c>notAnArchive</c>.
/// </summary>
public sealed record BackupVerifyResult(string Name, bool Valid, string Failure, string? Detail, long? Chunk, long? FirstBadPosition, long Records);

/// <summary>Restores an archive into an empty store (a store that already holds a log is refused).</summary>
public sealed record RestoreRequest(string Name);

public sealed record RestoreResult(long Records, long Position, string ViewsHash, double ElapsedMs);

/// <summary>A channel's messages as the log has them (older than chat's own window, too).</summary>
public sealed record ChannelMessagesPage(string ChannelId, long FromOffset, long Watermark, IReadOnlyList<StoredChatMessage> Messages);

public sealed record StoredChatMessage(long Offset, string SenderId, string Text, DateTimeOffset PostedAt, bool Edited, bool Deleted);

/// <summary>
/// One retention run: records <see cref="FromPosition"/>..<see cref="ToPosition"/> moved from the live store into
/// the retention archive <see cref="Archive"/> (<see cref="Archived"/> 0: nothing was due). <see cref="LiveFrom"/> is
/// where the live store's log now starts.
/// </summary>
public sealed record RetentionResult(long Archived, long FromPosition, long ToPosition, string? Archive, long LiveFrom);
