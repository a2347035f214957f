using System.Diagnostics.Metrics;

namespace DaprGame.Persistence.Infrastructure;

/// <summary>The service's meter, <c>DaprGame.Persistence</c> (exported on <c>/metrics</c>).</summary>
public sealed class PersistenceMetrics
{
    private readonly Histogram<int> _batch;
    private readonly Counter<long> _records;
    private readonly Histogram<double> _recovery;
    private readonly Histogram<long> _snapshotBytes;
    private readonly Counter<long> _dropped;

    public PersistenceMetrics(IMeterFactory meters)
    {
        var meter = meters.Create("DaprGame.Persistence");
        _batch = meter.CreateHistogram<int>("persistence.append.batch", "{record}", "Records appended per state transaction.");
        _records = meter.CreateCounter<long>("persistence.append.records", "{record}", "Records appended to the log.");
        _recovery = meter.CreateHistogram<double>("persistence.recovery.duration", "ms", "Time from start-up to a recovered, appending log.");
        _snapshotBytes = meter.CreateHistogram<long>("persistence.snapshot.size", "By", "Size of each stored views snapshot.");
        _dropped = meter.CreateCounter<long>("persistence.events.dropped", "{event}", "Deliveries that could never be logged (malformed).");
    }

    public void Batch(int records)
    {
        _batch.Record(records);
        _records.Add(records);
    }

    public void Recovered(double milliseconds) => _recovery.Record(milliseconds);

    public void Snapshot(long bytes) => _snapshotBytes.Record(bytes);

    public void Dropped(int count) => _dropped.Add(count);
}
