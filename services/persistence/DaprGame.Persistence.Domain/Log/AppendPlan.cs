namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// Everything one batch writes, computed without touching state. The host writes <see cref="Writes"/> in one state
/// transaction, the head guarded by its ETag; only when that succeeds does the in-memory log take the plan
/// (<see cref="EventLog.Apply"/>). If the write fails, the plan is thrown away and the batch redelivered.
/// </summary>
public sealed class AppendPlan
{
    internal AppendPlan(
        LogHead previousHead, LogHead newHead, List<LogRecord> records, AppendOutcome[] outcomes,
        Dictionary<string, StreamHead> streams, Dictionary<string, DedupEntry> dedup)
    {
        PreviousHead = previousHead;
        NewHead = newHead;
        Records = records;
        Outcomes = outcomes;
        Streams = streams;
        Dedup = dedup;
    }

    /// <summary>The head this plan was computed against; the ETag-guarded write must find it unchanged.</summary>
    public LogHead PreviousHead { get; }

    public LogHead NewHead { get; }

    /// <summary>New records in position order; empty when everything was a duplicate or conflict.</summary>
    public IReadOnlyList<LogRecord> Records { get; }

    /// <summary>One per incoming event, in batch order.</summary>
    public IReadOnlyList<AppendOutcome> Outcomes { get; }

    /// <summary>New stream heads, by stream id.</summary>
    public IReadOnlyDictionary<string, StreamHead> Streams { get; }

    /// <summary>New dedup entries, by event id.</summary>
    public IReadOnlyDictionary<string, DedupEntry> Dedup { get; }

    public bool IsEmpty => Records.Count == 0;

    /// <summary>The key/value pairs of the transaction: every record, every touched stream head and dedup entry, and the head.</summary>
    public IEnumerable<KeyValuePair<string, object>> Writes()
    {
        foreach (var record in Records)
        {
            yield return new(LogKeys.Record(record.Position), record);
        }
        foreach (var (streamId, head) in Streams)
        {
            yield return new(LogKeys.Stream(streamId), head);
        }
        foreach (var (eventId, entry) in Dedup)
        {
            yield return new(LogKeys.Dedup(eventId), entry);
        }
        if (!IsEmpty)
        {
            yield return new(LogKeys.Head, NewHead);
        }
    }
}
