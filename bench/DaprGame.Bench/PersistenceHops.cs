using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace DaprGame.Bench;

/// <summary>
/// Where an event's time goes in the <c>persistence</c> scenario: every HTTP and gRPC call this process makes (the
/// sidecars' deliveries to the service, the service's state calls to its sidecar, the publisher's bulk publishes),
/// timed from <c>System.Net.Http</c> activities and grouped by method and path.
/// </summary>
internal sealed class PersistenceHops : IDisposable
{
    private readonly ConcurrentDictionary<string, Hop> _hops = new(StringComparer.Ordinal);
    private readonly ActivityListener _listener;

    public PersistenceHops()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The calls that took the most time in all: calls per event × mean inclusive time, and calls per second.</summary>
    public string Report(long events, double seconds)
    {
        var top = _hops.OrderByDescending(h => h.Value.TotalMs).Take(8).Select(h => string.Create(CultureInfo.InvariantCulture,
            $"{h.Key} {h.Value.Count / (double)Math.Max(1, events):0.###}/event × {h.Value.TotalMs / Math.Max(1, h.Value.Count):0.00} ms ({h.Value.Count / seconds:0}/s)"));
        return string.Join("; ", top);
    }

    public void Dispose() => _listener.Dispose();

    private void Stopped(Activity activity)
    {
        if (activity.GetTagItem("url.full") is not string url || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || uri.AbsolutePath.StartsWith("/v1/admin/", StringComparison.Ordinal))
        {
            // The bench's own status calls wait server-side for a position: not part of an event's path.
            return;
        }
        var key = activity.GetTagItem("http.request.method") + " " + uri.AbsolutePath.Replace("/dapr.proto.runtime.v1.Dapr/", "grpc ", StringComparison.Ordinal);
        _hops.GetOrAdd(key, _ => new Hop()).Add(activity.Duration.TotalMilliseconds);
    }

    private sealed class Hop
    {
        private readonly Lock _gate = new();

        public long Count { get; private set; }

        public double TotalMs { get; private set; }

        public void Add(double ms)
        {
            lock (_gate)
            {
                Count++;
                TotalMs += ms;
            }
        }
    }
}
