using System.Collections.Concurrent;
using DaprGame.Sidecar.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>
/// A target app on a real loopback port whose routes fail on purpose, counting every call that reaches it:
/// <c>/fail/{n}/{status}</c> answers <c>status</c> for its first n calls and 200 <c>ok</c> after;
/// <c>/slow</c> never answers (it reports its arrival and waits for the caller to give up); anything else is 200.
/// The bodies received are kept, to show retries replay the body intact. Paths under <c>/dapr/</c> are not counted.
/// </summary>
public sealed class FlakyApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _bodies = new();
    private readonly ConcurrentQueue<string> _traceparents = new();
    private readonly TaskCompletionSource _slowArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _callSignal = new(0);

    private FlakyApp(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Every body received, in order.</summary>
    public IReadOnlyCollection<string> Bodies => _bodies;

    /// <summary>Completes when a call to <c>/slow</c> has arrived.</summary>
    public Task SlowArrived => _slowArrived.Task;

    /// <summary>The <c>traceparent</c> of every counted call, in order.</summary>
    public IReadOnlyCollection<string> Traceparents => _traceparents;

    public int CallsTo(string path) => _calls.TryGetValue(path, out var n) ? n : 0;

    public int TotalCalls => _calls.Values.Sum();

    public static async Task<FlakyApp> StartAsync()
    {
        var port = SidecarHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var flaky = new FlakyApp(app, port);
        app.Map("/{**path}", flaky.HandleAsync);
        await app.StartAsync();
        return flaky;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/dapr/", StringComparison.Ordinal))
        {
            // The sidecar's own startup calls (/dapr/subscribe, /dapr/config) are not test traffic.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        _traceparents.Enqueue(context.Request.Headers["traceparent"].ToString());
        var n = _calls.AddOrUpdate(path, 1, (_, c) => c + 1);
        using (var reader = new StreamReader(context.Request.Body))
        {
            _bodies.Enqueue(await reader.ReadToEndAsync(context.RequestAborted));
        }
        _callSignal.Release();
        var segments = path.Trim('/').Split('/');
        if (segments is ["fail", var times, var status] && n <= int.Parse(times, System.Globalization.CultureInfo.InvariantCulture))
        {
            context.Response.StatusCode = int.Parse(status, System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsync($"failure {n}", context.RequestAborted);
            return;
        }
        if (segments is ["slow"])
        {
            _slowArrived.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }
        await context.Response.WriteAsync("ok", context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _callSignal.Dispose();
    }
}
