namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// The log held in memory: its records, head, stream heads and dedup index. It is what tests, the views and a host
/// that keeps a warm copy use; the host's source of truth is the state store, written from the same
/// <see cref="AppendPlan"/> before <see cref="Apply"/> is called.
/// </summary>
public sealed class EventLog : ILogIndex
{
    private readonly List<LogRecord> _records = [];
    private readonly Dictionary<string, StreamHead> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DedupEntry> _dedup = new(StringComparer.Ordinal);

    public LogHead Head { get; private set; } = LogHead.Empty;

    /// <summary>Records by position: <c>Records[p - 1]</c> is position <c>p</c>.</summary>
    public IReadOnlyList<LogRecord> Records => _records;

    public DedupEntry? FindEvent(string eventId) => _dedup.GetValueOrDefault(eventId);

    public StreamHead? FindStream(string streamId) => _streams.GetValueOrDefault(streamId);

    public AppendPlan Plan(IReadOnlyList<IncomingEvent> batch) => AppendPlanner.Plan(Head, this, batch);

    public AppendPlan PlanRollback(RollbackMarker marker) =>
        RollbackPlanner.Plan(Head, FindStream(RollbackMarker.StreamId)?.Version ?? 0, marker);

    /// <summary>Takes a plan whose writes succeeded. A plan computed against another head is refused (it would fork the chain).</summary>
    public void Apply(AppendPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.PreviousHead.Position != Head.Position || !plan.PreviousHead.Hash.AsSpan().SequenceEqual(Head.Hash))
        {
            throw new InvalidOperationException(
                $"plan was computed at position {plan.PreviousHead.Position}, the log is at {Head.Position}");
        }
        foreach (var record in plan.Records)
        {
            _records.Add(record);
        }
        foreach (var (streamId, head) in plan.Streams)
        {
            _streams[streamId] = head;
        }
        foreach (var (eventId, entry) in plan.Dedup)
        {
            _dedup[eventId] = entry;
        }
        Head = plan.NewHead;
    }

    /// <summary>
    /// The log as stored: <paramref name="records"/> must be positions 1, 2, … in order, and their chain must hold
    /// (<see cref="ChainVerifier"/>). The dedup index and stream heads are derived from the records, as the planner
    /// would have written them. A broken chain is refused with <see cref="ChainBrokenException"/>: a host must not
    /// append to a log it cannot vouch for.
    /// </summary>
    public static EventLog Restore(IReadOnlyList<LogRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var report = ChainVerifier.Verify(records);
        if (!report.IsValid)
        {
            throw new ChainBrokenException(report);
        }
        var log = new EventLog();
        log.Extend(records);
        return log;
    }

    /// <summary>
    /// Takes records another writer appended after <see cref="Head"/> (read back from the store): they must continue
    /// the chain from the head.
    /// </summary>
    public void Extend(IReadOnlyList<LogRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var report = ChainVerifier.Verify(records, Head);
        if (!report.IsValid)
        {
            throw new ChainBrokenException(report);
        }
        foreach (var record in records)
        {
            _records.Add(record);
            if (record.Kind == RecordKind.Rollback)
            {
                _streams[record.StreamId] = new StreamHead(record.StreamVersion, record.Sequence);
                _dedup[record.EventId] = new DedupEntry(record.Position, record.Hash);
            }
            else
            {
                var highest = _streams.TryGetValue(record.StreamId, out var s) ? Math.Max(s.HighestSequence, record.Sequence) : record.Sequence;
                _streams[record.StreamId] = new StreamHead(record.StreamVersion, highest);
                _dedup[record.EventId] = new DedupEntry(record.Position, RecordHash.Content(
                    new IncomingEvent(record.EventId, record.Type, record.StreamId, record.Sequence, record.OccurredAt, record.Data)));
            }
            Head = new LogHead(record.Position, record.Hash);
        }
    }

    /// <summary>Plans and applies at once: for tests and a host with nothing to write first.</summary>
    public AppendPlan Append(IReadOnlyList<IncomingEvent> batch)
    {
        var plan = Plan(batch);
        Apply(plan);
        return plan;
    }

    public AppendPlan Rollback(RollbackMarker marker)
    {
        var plan = PlanRollback(marker);
        Apply(plan);
        return plan;
    }
}
