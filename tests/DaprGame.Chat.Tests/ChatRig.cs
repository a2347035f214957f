using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Dapr.Client;
using DaprGame.Chat.Infrastructure;
using DaprGame.Contracts;
using DaprGame.Contracts.Chat;
using DaprGame.Hosting;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.PubSub;
using DaprGame.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Chat.Tests;

/// <summary>
/// The real chat app (ChatApp.Build) with its own local sidecar (state.sqlite as actor store, pubsub.in-memory), plus an
/// "observer" app with its own sidecar on the same in-memory broker that records every event chat publishes. Calls
/// go observer sidecar → chat sidecar → chat app through service invocation, as the gateway's do. Each rig has its own
/// registry, broker and database, so tests do not see each other.
/// </summary>
public sealed class ChatRig : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 4, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly string _folder;
    private readonly SidecarEnvironment _environment;
    private readonly Dictionary<string, string> _resources;
    private readonly Channel<JsonObject> _chatEvents = Channel.CreateUnbounded<JsonObject>();
    private readonly Channel<JsonObject> _moderationEvents = Channel.CreateUnbounded<JsonObject>();
    private WebApplication? _observerApp;
    private TestSidecar? _observer;
    private HttpClient? _http;

    private ChatRig(string folder)
    {
        _folder = folder;
        _environment = new SidecarEnvironment { InMemoryBroker = new InMemoryBroker(), Registry = new InProcessAppRegistry() };
        var pubsub = Yaml.Component(Components.PubSub, "pubsub.in-memory");
        _resources = new Dictionary<string, string>
        {
            ["statestore.yaml"] = Yaml.Component(Components.StateStore, "state.sqlite", new Dictionary<string, string>
            {
                ["connectionString"] = Path.Combine(folder, "chat.db"),
                ["actorStateStore"] = "true",
            }),
            ["pubsub.yaml"] = pubsub,
        };
    }

    public FakeTimeProvider Clock { get; } = new(Start);

    /// <summary>The chat sidecar's state.sqlite file (actor state lives here).</summary>
    public string DatabasePath => Path.Combine(_folder, "chat.db");

    /// <summary>Makes the chat app's publishes fail while set (the broker is "down" for chat only).</summary>
    public PublishSwitch Publishing { get; } = new();

    public ServiceNode Chat { get; private set; } = null!;


    public static async Task<ChatRig> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var rig = new ChatRig(Directory.CreateTempSubdirectory("daprgame-chat-").FullName);
        try
        {
            await rig.StartObserverAsync();
            rig.Chat = await ServiceNode.StartAsync(AppIds.Chat, ChatApp.Build, rig._resources, rig._environment, b => rig.Configure(b, settings));
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
        return rig;
    }

    /// <summary>Stops the chat sidecar (which deactivates every actor) and the app, then starts both again on the same database.</summary>
    public async Task RestartChatAsync()
    {
        await Chat.StopSidecarAsync();
        await Chat.StopAppAsync();
        await Chat.StartAppAsync();
        await Chat.StartSidecarAsync(_resources, _environment);
    }

    // ---- HTTP through service invocation ----

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string route, string? player, object? body = null)
    {
        using var request = new HttpRequestMessage(method, route.TrimStart('/'));
        if (player is not null)
        {
            request.Headers.Add(ChatHeaders.PlayerId, player);
        }
        if (body is not null)
        {
            request.Content = body as HttpContent ?? JsonContent.Create(body, body.GetType(), options: ServiceDefaults.JsonOptions);
        }
        using var response = await _http!.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>Sends and expects success; the body read as <typeparamref name="T"/>.</summary>
    public async Task<T> OkAsync<T>(HttpMethod method, string route, string player, object? body = null)
    {
        var (status, json) = await SendAsync(method, route, player, body);
        Assert.True((int)status is >= 200 and < 300, $"{method} {route} as {player}: {(int)status} {json?.ToJsonString()}");
        return json.Deserialize<T>(ServiceDefaults.JsonOptions)!;
    }

    /// <summary>Sends and expects a problem with <paramref name="status"/> and <paramref name="code"/>.</summary>
    public async Task<JsonNode> ProblemAsync(HttpMethod method, string route, string? player, object? body, HttpStatusCode status, string code)
    {
        var (actual, json) = await SendAsync(method, route, player, body);
        Assert.True(status == actual, $"{method} {route} as {player}: expected {(int)status} {code}, got {(int)actual} {json?.ToJsonString()}");
        Assert.Equal(code, json?["code"]?.GetValue<string>());
        Assert.Equal((int)status, json!["status"]!.GetValue<int>());
        return json;
    }

    public Task<MessageAck> PostAsync(string channelId, string player, string clientMessageId, string text) =>
        OkAsync<MessageAck>(HttpMethod.Post, ChatRoutes.Messages(channelId), player, new PostMessage(clientMessageId, text));

    public Task<JoinResult> JoinAsync(string channelId, string player) => OkAsync<JoinResult>(HttpMethod.Post, ChatRoutes.Join(channelId), player);

    public Task<HistoryPage> HistoryAsync(string channelId, string player, long? after = null, int? limit = null)
    {
        var query = new List<string>();
        if (after is { } a)
        {
            query.Add($"after={a}");
        }
        if (limit is { } l)
        {
            query.Add($"limit={l}");
        }
        return OkAsync<HistoryPage>(HttpMethod.Get, ChatRoutes.Messages(channelId) + (query.Count > 0 ? "?" + string.Join('&', query) : ""), player);
    }

    /// <summary>A group created by <paramref name="owner"/> with <paramref name="members"/> invited and joined.</summary>
    public async Task<string> GroupAsync(string owner, params string[] members)
    {
        var info = await OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Channels, owner, new CreateChannel(ChannelKind.Group, "Raid team"));
        foreach (var m in members)
        {
            await OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Invite(info.ChannelId), owner, new MemberAction(m));
            await JoinAsync(info.ChannelId, m);
        }
        return info.ChannelId;
    }

    // ---- what chat published ----

    /// <summary>The next CloudEvent chat published on <see cref="Topics.Chat"/>; fails naming <paramref name="what"/> if none comes.</summary>
    public Task<JsonObject> NextChatEventAsync(string what) => NextAsync(_chatEvents, what);

    public Task<JsonObject> NextModerationAsync(string what) => NextAsync(_moderationEvents, what);

    /// <summary>Chat events for <paramref name="channelId"/> until one with <paramref name="offset"/> arrives.</summary>
    public async Task<List<JsonObject>> ChatEventsThroughAsync(string channelId, long offset)
    {
        var events = new List<JsonObject>();
        while (true)
        {
            var e = await NextChatEventAsync($"{channelId} offset {offset}");
            if (e["data"]!["channelId"]!.GetValue<string>() != channelId)
            {
                continue;
            }
            events.Add(e);
            if (e["data"]!["offset"]!.GetValue<long>() >= offset)
            {
                return events;
            }
        }
    }

    public bool TryTakeChatEvent(out JsonObject? e) => _chatEvents.Reader.TryRead(out e);

    public async ValueTask DisposeAsync()
    {
        if (Chat is not null)
        {
            await Chat.DisposeAsync();
        }
        _http?.Dispose();
        if (_observer is not null)
        {
            await _observer.DisposeAsync();
        }
        if (_observerApp is not null)
        {
            await _observerApp.StopAsync(CancellationToken.None);
            await _observerApp.DisposeAsync();
        }
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may hold the file a moment longer; the temp cleaner takes it.
        }
    }

    private void Configure(WebApplicationBuilder builder, Dictionary<string, string?>? settings)
    {
        builder.Services.AddSingleton<TimeProvider>(Clock);
        builder.Services.AddSingleton<IChatPublisher>(sp => new SwitchedPublisher(new DaprChatPublisher(sp.GetRequiredService<DaprClient>()), Publishing));
        // The tests call chat through the observer's sidecar, standing in for the gateway.
        builder.Configuration["Chat:TrustedCallers:0"] = "observer";
        builder.Configuration.AddInMemoryCollection(settings ?? []);
    }

    /// <summary>Calls chat as the app <paramref name="callerAppId"/> would: through that app's own sidecar.</summary>
    public async Task<HttpStatusCode> StatusAsCallerAsync(string callerAppId, string route, string player)
    {
        await using var caller = await TestSidecar.StartAsync(callerAppId, new Dictionary<string, string>(), environment: _environment);
        using var http = DaprClient.CreateInvokeHttpClient(AppIds.Chat, caller.Host.HttpEndpoint);
        using var request = new HttpRequestMessage(HttpMethod.Get, route.TrimStart('/'));
        request.Headers.Add(ChatHeaders.PlayerId, player);
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    private async Task StartObserverAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/dapr/subscribe", () => Results.Json(new object[]
        {
            new { pubsubname = Components.PubSub, topic = Topics.Chat, route = "/chat" },
            new { pubsubname = Components.PubSub, topic = Topics.ChatModeration, route = "/moderation" },
        }));
        app.MapPost("/chat", async (HttpRequest request) => await RecordAsync(request, _chatEvents));
        app.MapPost("/moderation", async (HttpRequest request) => await RecordAsync(request, _moderationEvents));
        await app.StartAsync(TestContext.Current.CancellationToken);
        _observerApp = app;
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        _observer = await TestSidecar.StartAsync("observer", new Dictionary<string, string> { ["pubsub.yaml"] = _resources["pubsub.yaml"] }, o => o.AppPort = port, _environment);
        await _observer.Host.Ready.WaitAsync(WaitLimit, TestContext.Current.CancellationToken);
        // As the gateway calls chat: a plain HTTP client addressed to the app id, sent through its own sidecar.
        _http = DaprClient.CreateInvokeHttpClient(AppIds.Chat, _observer.Host.HttpEndpoint);
    }

    private static async Task<IResult> RecordAsync(HttpRequest request, Channel<JsonObject> sink)
    {
        var envelope = (await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted))!.AsObject();
        sink.Writer.TryWrite(envelope);
        return Results.Ok();
    }

    private static async Task<JsonObject> NextAsync(Channel<JsonObject> source, string what)
    {
        try
        {
            return await source.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(WaitLimit, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"stalled: nothing published within {WaitLimit.TotalSeconds}s while waiting for {what}");
        }
    }
}

/// <summary>While <see cref="Failing"/> is set, publishes fail as they would with the broker down.</summary>
public sealed class PublishSwitch
{
    private volatile bool _failing;

    private int _failures;

    public bool Failing { get => _failing; set => _failing = value; }

    public int Failures => Volatile.Read(ref _failures);

    public void CountFailure() => Interlocked.Increment(ref _failures);
}

/// <summary>The real publisher behind a switch the test flips.</summary>
public sealed class SwitchedPublisher(IChatPublisher inner, PublishSwitch state) : IChatPublisher
{
    public Task PublishAsync(ChannelEvent channelEvent, CancellationToken cancellationToken)
    {
        Check();
        return inner.PublishAsync(channelEvent, cancellationToken);
    }

    public Task PublishAsync(ChatModerationAction action, CancellationToken cancellationToken)
    {
        Check();
        return inner.PublishAsync(action, cancellationToken);
    }

    private void Check()
    {
        if (state.Failing)
        {
            state.CountFailure();
            throw new HttpRequestException("broker unavailable (test switch)");
        }
    }
}
