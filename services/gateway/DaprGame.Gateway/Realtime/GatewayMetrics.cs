using System.Diagnostics.Metrics;

namespace DaprGame.Gateway.Realtime;

/// <summary>The realtime side's instruments on the <c>DaprGame.Gateway</c> meter.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "DaprGame.Gateway";

    private readonly UpDownCounter<long> _openSockets;
    private readonly Counter<long> _framesPushed;
    private readonly Counter<long> _overflowCloses;
    private readonly Counter<long> _rateLimited;
    private readonly Histogram<double> _fanOutLatency;

    public GatewayMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _openSockets = meter.CreateUpDownCounter<long>("gateway.sockets.open", description: "Open player sockets on this replica.");
        _framesPushed = meter.CreateCounter<long>("gateway.frames.pushed", description: "Event frames enqueued to sockets (one per recipient).");
        _overflowCloses = meter.CreateCounter<long>("gateway.sockets.overflow_closes", description: "Sockets closed with 4008 because their outbound queue was full.");
        _rateLimited = meter.CreateCounter<long>("gateway.requests.rate_limited", description: "Requests refused by a rate limit.");
        _fanOutLatency = meter.CreateHistogram<double>(
            "gateway.fanout.latency",
            unit: "ms",
            description: "From an event's OccurredAt to its frame enqueued for every local watcher.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] });
    }

    public void SocketOpened() => _openSockets.Add(1);

    public void SocketClosed() => _openSockets.Add(-1);

    public void FramesPushed(int count) => _framesPushed.Add(count);

    public void OverflowClose() => _overflowCloses.Add(1);

    public void RateLimited(RateClass rateClass) => _rateLimited.Add(1, new KeyValuePair<string, object?>("class", rateClass.ToString()));

    public void FanOutLatency(TimeSpan latency) => _fanOutLatency.Record(latency.TotalMilliseconds);
}
