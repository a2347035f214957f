using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace DaprGame.Bench;

/// <summary>
/// Where a unit of work's time goes: every HTTP and gRPC call this process makes (client → gateway, app → its sidecar,
/// sidecar → app), timed from <c>System.Net.Http</c> activities and grouped by method and path, the path shaped by the
/// scenario (ids folded out, calls that are the bench's own left out). Durations are inclusive: an actor turn contains
/// its own calls.
/// </summary>
internal sealed class HopTimer : IDisposable
{
    private readonly ConcurrentDictionary<string, Hop> _hops = new(StringComparer.Ordinal);
    private readonly Func<string, string?> _pathKey;
    private readonly ActivityListener _listener;

    /// <param name="pathKey">A call's absolute path → the path part of its key, or null to leave the call out.</param>
    public HopTimer(Func<string, string?> pathKey)
    {
        _pathKey = pathKey;
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The <paramref name="count"/> calls that took the most time in all: calls per unit × mean inclusive time (and calls per second when <paramref name="seconds"/> is given).</summary>
    public string Report(long units, string unit, int count, double? seconds = null) =>
        string.Join("; ", _hops.OrderByDescending(h => h.Value.TotalMs).Take(count).Select(h =>
            string.Create(CultureInfo.InvariantCulture, $"{h.Key} {h.Value.Count / (double)Math.Max(1, units):0.###}/{unit} × {h.Value.TotalMs / Math.Max(1, h.Value.Count):0.00} ms")
            + (seconds is { } s ? string.Create(CultureInfo.InvariantCulture, $" ({h.Value.Count / s:0}/s)") : "")));

    public void Dispose() => _listener.Dispose();

    private void Stopped(Activity activity)
    {
        if (activity.GetTagItem("url.full") is not string url || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || _pathKey(uri.AbsolutePath) is not { } path)
        {
            return;
        }
        _hops.GetOrAdd(activity.GetTagItem("http.request.method") + " " + path, _ => new Hop()).Add(activity.Duration.TotalMilliseconds);
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
