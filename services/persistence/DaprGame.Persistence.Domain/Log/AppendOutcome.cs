namespace DaprGame.Persistence.Domain.Log;

/// <summary>What happened to one incoming event of a batch. Persisted nowhere; reported to the host for logs and metrics.</summary>
public enum AppendStatus
{
    /// <summary>Appended at <see cref="AppendOutcome.Position"/>.</summary>
    Appended,

    /// <summary>Already in the log (or earlier in the same batch) with the same content: nothing appended; acknowledge it.</summary>
    Duplicate,

    /// <summary>The id is already in the log with different content: nothing appended. The first write wins; the host
    /// should acknowledge (retrying cannot help) and raise an alert.</summary>
    Conflict,
}

/// <summary>
/// The outcome for one incoming event, index-aligned with the batch. <see cref="Position"/> is where the event is (its
/// new position, or the earlier one for a duplicate or conflict). <see cref="Flags"/> reports a gap or a reordering of
/// the event's own sequence; such an event is appended anyway — it has been acknowledged upstream or will be, and
/// nothing acknowledged may be lost — and the flag is recorded in its (hashed) record.
/// </summary>
public readonly record struct AppendOutcome(AppendStatus Status, long Position, RecordFlags Flags);
