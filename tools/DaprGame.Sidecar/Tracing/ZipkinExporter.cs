using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Tracing;

/// <summary>
/// Sends finished spans to a Zipkin collector as v2 JSON (<c>POST /api/v2/spans</c>), in batches of whatever has
/// finished since the last post. A small in-house exporter rather than OpenTelemetry's (obsolete upstream): it needs
/// only this one format, and it keeps each sidecar's spans in its own queue. The queue is bounded; when the
/// collector is slower than the sidecar the oldest spans are dropped, never the request that made them.
/// </summary>
internal sealed class ZipkinExporter : IAsyncDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly Uri _endpoint;
    private readonly string _serviceName;
    private readonly ILogger _log;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Channel<Activity> _queue = Channel.CreateBounded<Activity>(new BoundedChannelOptions(4096)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });
    private readonly Task _loop;
    private bool _failing;

    public ZipkinExporter(Uri endpoint, string serviceName, ILogger log)
    {
        _endpoint = endpoint;
        _serviceName = serviceName;
        _log = log;
        _loop = Task.Run(RunAsync);
    }

    public void Enqueue(Activity activity)
    {
        if (activity.Recorded)
        {
            _queue.Writer.TryWrite(activity);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<Activity>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < 512 && _queue.Reader.TryRead(out var a))
            {
                batch.Add(a);
            }
            string? failure;
            try
            {
                using var content = new ByteArrayContent(Serialize(batch));
                content.Headers.ContentType = Json;
                using var response = await _http.PostAsync(_endpoint, content);
                failure = response.IsSuccessStatusCode ? null : $"answered {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failure = $"unreachable: {e.Message}";
            }
            // A local run without a collector must not flood the log: warn when export starts failing, then stay quiet.
            if (failure is not null && !_failing)
            {
                _log.LogWarning("zipkin collector at {Endpoint} {Failure}; spans are dropped until it answers", _endpoint, failure);
            }
            else if (failure is null && _failing)
            {
                _log.LogInformation("zipkin collector at {Endpoint} answers again", _endpoint);
            }
            _failing = failure is not null;
            batch.Clear();
        }
    }

    /// <summary>Zipkin v2 span JSON: ids in hex, timestamps and durations in microseconds.</summary>
    internal byte[] Serialize(IReadOnlyList<Activity> spans)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var a in spans)
            {
                w.WriteStartObject();
                w.WriteString("traceId", a.TraceId.ToHexString());
                w.WriteString("id", a.SpanId.ToHexString());
                if (a.ParentSpanId != default)
                {
                    w.WriteString("parentId", a.ParentSpanId.ToHexString());
                }
                w.WriteString("name", a.DisplayName);
                if (a.Kind switch
                    {
                        ActivityKind.Client => "CLIENT",
                        ActivityKind.Server => "SERVER",
                        ActivityKind.Producer => "PRODUCER",
                        ActivityKind.Consumer => "CONSUMER",
                        _ => null,
                    } is { } kind)
                {
                    w.WriteString("kind", kind);
                }
                var start = new DateTimeOffset(a.StartTimeUtc, TimeSpan.Zero);
                w.WriteNumber("timestamp", (start.ToUnixTimeMilliseconds() * 1000) + (start.Ticks % TimeSpan.TicksPerMillisecond / 10));
                w.WriteNumber("duration", Math.Max(1, a.Duration.Ticks / 10));
                w.WriteStartObject("localEndpoint");
                w.WriteString("serviceName", _serviceName);
                w.WriteEndObject();
                w.WriteStartObject("tags");
                foreach (var (k, v) in a.EnumerateTagObjects())
                {
                    w.WriteString(k, Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture));
                }
                if (a.Status == ActivityStatusCode.Error)
                {
                    w.WriteString("error", a.StatusDescription ?? "true");
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return buffer.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        // Spans still queued get one last chance to reach the collector.
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);
        _http.Dispose();
    }
}
