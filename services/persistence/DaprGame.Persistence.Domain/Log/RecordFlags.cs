namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// What the appender noticed about an event's own <c>sequence</c> against its stream. Flags are part of the hashed
/// record, so the observation is as tamper-evident as the event. Persisted as numbers: never renumber.
/// </summary>
[Flags]
public enum RecordFlags
{
    None = 0,

    /// <summary>The sequence skipped ahead: events between the stream's highest sequence and this one are missing so far.</summary>
    Gap = 1,

    /// <summary>The sequence is not above the stream's highest one: the event arrived late (it may fill an earlier gap).</summary>
    OutOfOrder = 2,
}
