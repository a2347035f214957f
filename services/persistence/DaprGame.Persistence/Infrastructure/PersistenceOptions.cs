namespace DaprGame.Persistence.Infrastructure;

/// <summary>Settings under <c>Persistence:</c> in configuration.</summary>
public sealed class PersistenceOptions
{
    public const string Section = "Persistence";

    /// <summary>The most events one state transaction appends (deliveries queued meanwhile are grouped up to this).</summary>
    public int MaxBatchEvents { get; set; } = 1_000;

    /// <summary>
    /// Bulk-subscribe batch size and wait asked of the sidecar. A batch holds what the broker hands over while it waits:
    /// up to <c>concurrency</c> messages on Redis Streams, one on the in-memory broker (which hands over one at a time,
    /// in daprd as here) — so the wait is kept short: on the in-memory broker every message waits it out.
    /// </summary>
    public int BulkMaxMessages { get; set; } = 500;

    public int BulkMaxAwaitMs { get; set; } = 5;

    /// <summary>
    /// How long an event that would leave a gap in its stream's sequence is parked (stored durably and acknowledged, but
    /// not appended), so the missing events — a redelivery racing newer ones, a producer publishing out of order — land
    /// first and the stream's records stay in order. After it, the event is appended and flagged as a gap. Zero: never park.
    /// </summary>
    public TimeSpan GapGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most events parked at once; beyond it, a gap is appended at once (flagged).</summary>
    public int MaxParked { get; set; } = 10_000;

    /// <summary>A views snapshot is stored every this many appended records.</summary>
    public int SnapshotEvery { get; set; } = 10_000;

    /// <summary>Keys per bulk get when the log is read back at start-up.</summary>
    public int ReadPage { get; set; } = 1_000;

    /// <summary>Where backup archives are written and read (a volume in production).</summary>
    public string BackupFolder { get; set; } = "./.data/backups";

    /// <summary>The secret store and secret holding the backup key (hex, 32 bytes).</summary>
    public string SecretStore { get; set; } = "secretstore";

    public string BackupKeySecret { get; set; } = "persistence-backup-key";

    public RetentionOptions Retention { get; set; } = new();
}
