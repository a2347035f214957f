namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// Turns a batch of incoming events into an <see cref="AppendPlan"/>: deduplicates by event id (against the index and
/// within the batch), assigns positions and per-stream versions, flags gaps and reorderings of each event's own
/// sequence, and chains the hashes. Pure: reads <see cref="ILogIndex"/>, changes nothing.
/// </summary>
/// <remarks>Runs for every delivered batch, so it avoids LINQ and per-event allocations beyond the records themselves.</remarks>
public static class AppendPlanner
{
    /// <summary>The keys the host bulk-gets before planning: each event's dedup key and each stream's head key.</summary>
    public static IReadOnlyList<string> KeysToRead(IReadOnlyList<IncomingEvent> batch)
    {
        var keys = new List<string>(batch.Count * 2);
        var streams = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            keys.Add(LogKeys.Dedup(batch[i].EventId));
            if (streams.Add(batch[i].StreamId))
            {
                keys.Add(LogKeys.Stream(batch[i].StreamId));
            }
        }
        return keys;
    }

    public static AppendPlan Plan(LogHead head, ILogIndex index, IReadOnlyList<IncomingEvent> batch)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(batch);

        var records = new List<LogRecord>(batch.Count);
        var outcomes = new AppendOutcome[batch.Count];
        var streams = new Dictionary<string, StreamHead>(StringComparer.Ordinal);
        var dedup = new Dictionary<string, DedupEntry>(batch.Count, StringComparer.Ordinal);
        var position = head.Position;
        var previousHash = head.Hash;

        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var content = RecordHash.Content(e);
            var seen = dedup.TryGetValue(e.EventId, out var inBatch) ? inBatch : index.FindEvent(e.EventId);
            if (seen is not null)
            {
                var status = seen.ContentHash.AsSpan().SequenceEqual(content) ? AppendStatus.Duplicate : AppendStatus.Conflict;
                outcomes[i] = new AppendOutcome(status, seen.Position, RecordFlags.None);
                continue;
            }

            var stream = streams.TryGetValue(e.StreamId, out var s) ? s : index.FindStream(e.StreamId) ?? new StreamHead(0, 0);
            var flags = RecordFlags.None;
            if (e.Sequence <= stream.HighestSequence)
            {
                flags = RecordFlags.OutOfOrder;
            }
            else if (e.Sequence > stream.HighestSequence + 1)
            {
                flags = RecordFlags.Gap;
            }

            position++;
            var version = stream.Version + 1;
            var hash = RecordHash.Compute(
                position, RecordKind.Event, e.StreamId, version, e.Sequence, flags, e.EventId, e.Type, e.OccurredAt, e.Data, previousHash);
            records.Add(new LogRecord(
                position, RecordKind.Event, e.StreamId, version, e.Sequence, flags, e.EventId, e.Type, e.OccurredAt, e.Data, previousHash, hash));
            streams[e.StreamId] = new StreamHead(version, Math.Max(stream.HighestSequence, e.Sequence));
            dedup[e.EventId] = new DedupEntry(position, content);
            outcomes[i] = new AppendOutcome(AppendStatus.Appended, position, flags);
            previousHash = hash;
        }

        return new AppendPlan(head, new LogHead(position, previousHash), records, outcomes, streams, dedup);
    }
}
