using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Tests.PubSub;

/// <summary>One request the app received: the bytes on the wire and what the SDK's CloudEvents middleware made of them.</summary>
public sealed record Delivery(string Route, byte[] RawBody, string? RawContentType, byte[] Body, string? ContentType, Dictionary<string, string> Headers)
{
    /// <summary>The CloudEvent as sent by the sidecar (parsed from the raw body).</summary>
    public JsonElement CloudEvent => JsonDocument.Parse(RawBody).RootElement;

    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A real Dapr.AspNetCore app on a free loopback port: <c>UseCloudEvents()</c>, <c>MapSubscribeHandler()</c> and
/// minimal-API routes declared with <c>WithTopic</c>, each recording what it receives into a channel the test awaits.
/// </summary>
public sealed class SubscriberApp : IAsyncDisposable
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(15);
    private readonly WebApplication _web;
    private readonly ConcurrentDictionary<string, Channel<Delivery>> _deliveries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    private SubscriberApp(WebApplication web)
    {
        _web = web;
    }

    public int Port { get; private set; }

    /// <summary>Builds the app; <paramref name="map"/> declares its subscriptions; the app is listening when this returns.</summary>
    public static async Task<SubscriberApp> StartAsync(Action<SubscriberApp> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRouting();
        var web = builder.Build();
        var app = new SubscriberApp(web);
        // Capture the wire bytes before the SDK's middleware rewrites the request.
        web.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy, context.RequestAborted);
            context.Request.Body.Position = 0;
            context.Items["raw"] = copy.ToArray();
            context.Items["rawContentType"] = context.Request.ContentType;
            await next(context);
        });
        web.UseCloudEvents();
        web.UseRouting();
        web.MapSubscribeHandler();
        map(app);
        await web.StartAsync();
        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        app.Port = new Uri(address).Port;
        return app;
    }

    /// <summary>
    /// Maps <paramref name="route"/> for <paramref name="topic"/>; <paramref name="respond"/> gets the delivery and its
    /// 1-based attempt number on this route and returns the app's answer (default: 200 with an empty body).
    /// </summary>
    public void Subscribe(TopicOptions topic, string route, Func<Delivery, int, Task<IResult>>? respond = null) =>
        Map(route, respond).WithTopic(topic);

    /// <summary>Maps a route with no topic (a dead-letter target declared elsewhere, or a rule's path).</summary>
    public RouteHandlerBuilder Map(string route, Func<Delivery, int, Task<IResult>>? respond = null) =>
        _web.MapPost(route, async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var delivery = new Delivery(
                route,
                (byte[])context.Items["raw"]!,
                (string?)context.Items["rawContentType"],
                body.ToArray(),
                context.Request.ContentType,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
            var attempt = _counts.AddOrUpdate(route, 1, (_, n) => n + 1);
            Channel(route).Writer.TryWrite(delivery);
            return respond is null ? Results.Ok() : await respond(delivery, attempt);
        });

    /// <summary>How many requests <paramref name="route"/> has received so far.</summary>
    public int Count(string route) => _counts.GetValueOrDefault(route);

    /// <summary>The next delivery on <paramref name="route"/>; fails the test naming <paramref name="what"/> if none comes.</summary>
    public async Task<Delivery> NextAsync(string route, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(WaitLimit);
        try
        {
            return await Channel(route).Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"stalled: no delivery on /{route} within {WaitLimit.TotalSeconds}s while waiting for {what}");
        }
    }

    /// <summary>True if a delivery is already queued on <paramref name="route"/> (to assert that nothing else arrived).</summary>
    public bool TryTake(string route, out Delivery? delivery) => Channel(route).Reader.TryRead(out delivery);

    private Channel<Delivery> Channel(string route) => _deliveries.GetOrAdd(route, _ => System.Threading.Channels.Channel.CreateUnbounded<Delivery>());

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _web.StopAsync(stop.Token);
        await _web.DisposeAsync();
    }
}
