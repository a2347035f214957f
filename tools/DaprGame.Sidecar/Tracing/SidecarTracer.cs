using System.Diagnostics;
using DaprGame.Sidecar.Components;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Tracing;

/// <summary>
/// The sidecar's own spans, as daprd records them: one per API call it serves (invoke on both sides, publish,
/// delivery, state), a child of the caller's <c>traceparent</c>, sampled parent-based with <c>samplingRate</c> for
/// new traces, and exported to the Zipkin endpoint of the Configuration. Each sidecar has its own
/// <see cref="ActivitySource"/> and listener, so sidecars sharing a process never record each other's spans.
/// Exists only when tracing is on (rate above 0 and an exporter): otherwise the request path skips it entirely.
/// </summary>
public sealed class SidecarTracer : IAsyncDisposable
{
    private readonly ActivitySource _source = new("DaprGame.Sidecar");
    private readonly ActivityListener _listener;
    private readonly ZipkinExporter _exporter;
    private readonly ulong _threshold;

    private SidecarTracer(double samplingRate, ZipkinExporter exporter)
    {
        _exporter = exporter;
        // Trace-id ratio sampling as OpenTelemetry does it: the low 63 bits of the trace id against rate × 2^63.
        _threshold = samplingRate >= 1 ? ulong.MaxValue : (ulong)(samplingRate * (1UL << 63));
        _listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, _source),
            Sample = Sample,
            ActivityStopped = exporter.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The tracer for <paramref name="config"/>, or null when it records nothing (rate "0" or no Zipkin endpoint).</summary>
    public static SidecarTracer? Create(ConfigurationSpec config, string appId, ILogger log)
    {
        foreach (var exporter in config.UnsupportedTracing)
        {
            log.LogWarning("tracing.{Exporter} in {File} is not implemented by the local sidecar; only tracing.zipkin exports spans", exporter, config.SourceFile);
        }
        if (config.SamplingRate <= 0 || config.ZipkinEndpoint is not { Length: > 0 } endpoint)
        {
            return null;
        }
        return new SidecarTracer(config.SamplingRate, new ZipkinExporter(new Uri(endpoint), appId, log));
    }

    /// <summary>
    /// Starts a span under <paramref name="traceparent"/> (a new trace when it is missing or malformed). Null when
    /// the span is not sampled; the caller then propagates the context without recording.
    /// </summary>
    public Activity? Start(string name, ActivityKind kind, string? traceparent)
    {
        ActivityContext parent = default;
        if (traceparent is { Length: > 0 } && ActivityContext.TryParse(traceparent, null, isRemote: true, out var parsed))
        {
            parent = parsed;
        }
        var activity = _source.CreateActivity(name, kind, parent, idFormat: ActivityIdFormat.W3C);
        if (activity is null)
        {
            return null;
        }
        // Started without becoming Activity.Current for the rest of the request: the app's own instrumentation in
        // the same process must not see the sidecar's span as its parent.
        var previous = Activity.Current;
        activity.Start();
        Activity.Current = previous;
        return activity;
    }

    /// <summary>Ends a span, marking it failed with <paramref name="error"/> when given.</summary>
    public static void Stop(Activity? activity, int? httpStatus = null, string? error = null)
    {
        if (activity is null)
        {
            return;
        }
        if (httpStatus is { } status)
        {
            activity.SetTag("http.status_code", status);
        }
        if (error is not null || httpStatus >= 500)
        {
            activity.SetStatus(ActivityStatusCode.Error, error);
        }
        var previous = Activity.Current;
        activity.Stop();
        Activity.Current = previous;
    }

    /// <summary>The W3C <c>traceparent</c> naming <paramref name="activity"/> as the parent, for the next hop.</summary>
    public static string TraceparentOf(Activity activity) =>
        $"00-{activity.TraceId.ToHexString()}-{activity.SpanId.ToHexString()}-{((activity.ActivityTraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";

    private ActivitySamplingResult Sample(ref ActivityCreationOptions<ActivityContext> options)
    {
        if (options.Parent.TraceId != default)
        {
            return (options.Parent.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None;
        }
        if (_threshold == ulong.MaxValue)
        {
            return ActivitySamplingResult.AllDataAndRecorded;
        }
        Span<byte> bytes = stackalloc byte[16];
        options.TraceId.CopyTo(bytes);
        var low = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]) & 0x7FFF_FFFF_FFFF_FFFF;
        return low < _threshold ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        _source.Dispose();
        await _exporter.DisposeAsync();
    }
}
