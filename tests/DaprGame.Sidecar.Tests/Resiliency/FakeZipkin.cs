using System.Text.Json;
using System.Threading.Channels;
using DaprGame.Sidecar.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>One span as a Zipkin v2 collector receives it.</summary>
public sealed record ZipkinSpan(string TraceId, string Id, string? ParentId, string Name, string? Kind, string ServiceName);

/// <summary>An in-process Zipkin collector: accepts <c>POST /api/v2/spans</c> and hands every span to the test.</summary>
public sealed class FakeZipkin : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ZipkinSpan> _spans = Channel.CreateUnbounded<ZipkinSpan>();
    private readonly List<ZipkinSpan> _seen = [];

    private FakeZipkin(WebApplication app, int port)
    {
        _app = app;
        Endpoint = $"http://127.0.0.1:{port}/api/v2/spans";
    }

    public string Endpoint { get; }

    /// <summary>Spans received so far (read after <see cref="WaitForAsync"/> or once every sidecar has stopped).</summary>
    public IReadOnlyList<ZipkinSpan> Seen
    {
        get
        {
            while (_spans.Reader.TryRead(out var s))
            {
                _seen.Add(s);
            }
            return _seen;
        }
    }

    public static async Task<FakeZipkin> StartAsync()
    {
        var port = SidecarHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var zipkin = new FakeZipkin(app, port);
        app.MapPost("/api/v2/spans", async (HttpContext context) =>
        {
            using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            foreach (var s in doc.RootElement.EnumerateArray())
            {
                zipkin._spans.Writer.TryWrite(new ZipkinSpan(
                    s.GetProperty("traceId").GetString()!,
                    s.GetProperty("id").GetString()!,
                    s.TryGetProperty("parentId", out var p) ? p.GetString() : null,
                    s.GetProperty("name").GetString()!,
                    s.TryGetProperty("kind", out var k) ? k.GetString() : null,
                    s.GetProperty("localEndpoint").GetProperty("serviceName").GetString()!));
            }
            return Results.Accepted();
        });
        await app.StartAsync();
        return zipkin;
    }

    /// <summary>Waits (bounded) until <paramref name="count"/> spans of <paramref name="traceId"/> have arrived.</summary>
    public async Task<List<ZipkinSpan>> WaitForAsync(string traceId, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var matching = Seen.Where(s => s.TraceId == traceId).ToList();
                if (matching.Count >= count)
                {
                    return matching;
                }
                await _spans.Reader.WaitToReadAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"stalled: the collector got {Seen.Count(s => s.TraceId == traceId)} of {count} spans of trace {traceId} within 30s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
