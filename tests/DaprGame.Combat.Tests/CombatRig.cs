using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Dapr.Client;
using DaprGame.Combat.Matches;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;
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

namespace DaprGame.Combat.Tests;

/// <summary>
/// The real combat app (CombatApp.Build, with <see cref="FakeSimulationFactory"/>) and the real gateway app, each with
/// its own local sidecar (state.sqlite as actor store, pubsub.in-memory), sharing one <see cref="FakeTimeProvider"/>
/// (tickets are signed and checked on the same clock; the tick loops advance only when a test moves it). A recorder app
/// with its own sidecar collects every combat event. Tests call combat directly through the gateway's sidecar (so the
/// caller is app-id <c>gateway</c>, as in production) or go through the gateway's HTTP API as players.
/// </summary>
public sealed class CombatRig : IAsyncDisposable
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly string _folder;
    private readonly SidecarEnvironment _environment;
    private readonly Dictionary<string, string> _resources;
    private readonly Channel<JsonObject> _events = Channel.CreateUnbounded<JsonObject>();
    private WebApplication? _recorderApp;
    private TestSidecar? _recorder;
    private HttpClient? _asGateway;
    private HttpClient? _asRecorder;
    private HttpClient? _gatewayHttp;

    private CombatRig(string folder)
    {
        _folder = folder;
        _environment = new SidecarEnvironment { InMemoryBroker = new InMemoryBroker(), Registry = new InProcessAppRegistry() };
        _resources = new Dictionary<string, string>
        {
            ["statestore.yaml"] = Yaml.Component(Components.StateStore, "state.sqlite", new Dictionary<string, string>
            {
                ["connectionString"] = Path.Combine(folder, "combat.db"),
                ["actorStateStore"] = "true",
            }),
            ["pubsub.yaml"] = Yaml.Component(Components.PubSub, "pubsub.in-memory"),
            // The gateway subscribes to its push topics on "broadcast"; nothing is published there in these tests.
            ["broadcast.yaml"] = Yaml.Component(Components.Broadcast, "pubsub.in-memory"),
        };
    }

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public FakeSimulationFactory Simulations { get; } = new();

    public ServiceNode Combat { get; private set; } = null!;

    public ServiceNode Gateway { get; private set; } = null!;

    public MatchRunner Runner => Combat.Services.GetRequiredService<MatchRunner>();

    /// <param name="realSimulation">Run the real simulation core instead of the deterministic fake.</param>
    public static async Task<CombatRig> StartAsync(Dictionary<string, string?>? settings = null, bool realSimulation = false)
    {
        var rig = new CombatRig(Directory.CreateTempSubdirectory("daprgame-combat-").FullName);
        try
        {
            await rig.StartRecorderAsync();
            rig.Gateway = await ServiceNode.StartAsync(AppIds.Gateway, (args, configure) => DaprGame.Gateway.GatewayApp.Build(args, configure), rig._resources, rig._environment, b =>
            {
                b.Configuration["Auth:Pbkdf2Iterations"] = "1000";
                b.Configuration["Auth:Admins"] = "referee";
                b.Services.AddSingleton<TimeProvider>(rig.Time);
            });
            rig.Combat = await ServiceNode.StartAsync(AppIds.Combat, CombatApp.Build, rig._resources, rig._environment, b =>
            {
                b.Configuration.AddInMemoryCollection(settings ?? []);
                b.Services.AddSingleton<TimeProvider>(rig.Time);
                if (!realSimulation)
                {
                    b.Services.AddSingleton<ISimulationFactory>(rig.Simulations);
                }
            });
            rig._asGateway = DaprClient.CreateInvokeHttpClient(AppIds.Combat, rig.Gateway.Sidecar!.Host.HttpEndpoint);
            rig._gatewayHttp = new HttpClient { BaseAddress = rig.Gateway.AppAddress };
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
        return rig;
    }

    /// <summary>
    /// Stops the combat sidecar (the app can no longer save anything), then the app, and starts both again on the same
    /// database: as if the replica died, its match loops are gone, and the next call to a match's actor activates it on
    /// the new app.
    /// </summary>
    public async Task RestartCombatAsync()
    {
        await Combat.StopSidecarAsync();
        await Combat.StopAppAsync();
        await Combat.StartAppAsync();
        await Combat.StartSidecarAsync(_resources, _environment);
    }

    /// <summary>Combat's API called as the gateway calls it: the caller app id is the sidecar's, the player a header.</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string route, string? player, object? body = null, bool admin = false, bool asRecorder = false)
    {
        using var request = new HttpRequestMessage(method, route.TrimStart('/'));
        if (player is not null)
        {
            request.Headers.Add(CombatHeaders.PlayerId, player);
        }
        request.Headers.Add(CombatHeaders.Roles, admin ? "player,admin" : "player");
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: ServiceDefaults.JsonOptions);
        }
        var client = asRecorder ? _asRecorder! : _asGateway!;
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<T> OkAsync<T>(HttpMethod method, string route, string player, object? body = null, bool admin = false)
    {
        var (status, json) = await SendAsync(method, route, player, body, admin);
        Assert.True((int)status is >= 200 and < 300, $"{method} {route} as {player}: {(int)status} {json?.ToJsonString()}");
        return json.Deserialize<T>(ServiceDefaults.JsonOptions)!;
    }

    public async Task<JsonNode> ProblemAsync(HttpMethod method, string route, string? player, object? body, HttpStatusCode status, string code, bool admin = false, bool asRecorder = false)
    {
        var (actual, json) = await SendAsync(method, route, player, body, admin, asRecorder);
        Assert.True(status == actual, $"{method} {route} as {player}: expected {(int)status} {code}, got {(int)actual} {json?.ToJsonString()}");
        Assert.Equal(code, json?["code"]?.GetValue<string>());
        return json!;
    }

    /// <summary>Creates a match (20 Hz unless said otherwise) owned by <paramref name="owner"/>; the seed names its simulation.</summary>
    public Task<MatchView> CreateAsync(string owner, string matchId, ulong seed, int durationTicks = 0, int maxPlayers = 4, int tickRate = 20, int scoreLimit = 0) =>
        OkAsync<MatchView>(HttpMethod.Post, CombatRoutes.Matches, owner, new CreateMatch(matchId, "deathmatch", "arena", tickRate, seed, maxPlayers, durationTicks, scoreLimit));

    public Task<JoinView> JoinAsync(string player, string matchId) => OkAsync<JoinView>(HttpMethod.Post, CombatRoutes.Join(matchId), player);

    /// <summary>Starts a match and waits until its loop waits for its first period.</summary>
    public async Task<RunningMatch> StartAsync(string owner, string matchId)
    {
        await OkAsync<MatchView>(HttpMethod.Post, CombatRoutes.Start(matchId), owner);
        var match = Runner.Find(matchId) ?? throw new InvalidOperationException($"match {matchId} is not running on the combat node");
        await match.WaitAsync(0, parked: true).WaitAsync(WaitLimit, TestContext.Current.CancellationToken);
        return match;
    }

    /// <summary>Moves the clock one period of <paramref name="match"/> at a time, <paramref name="ticks"/> times, waiting for each tick.</summary>
    public async Task TickAsync(RunningMatch match, int ticks = 1)
    {
        var period = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / match.Setup.TickRate);
        for (var i = 0; i < ticks; i++)
        {
            var next = match.Simulation.Tick + 1;
            Time.Advance(period);
            try
            {
                await match.WaitAsync(next, parked: true).WaitAsync(WaitLimit, TestContext.Current.CancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"match {match.Id}: tick {next} did not complete within {WaitLimit} after the clock moved one period");
            }
        }
    }

    // ---- as a player, through the gateway ----

    /// <summary>A guest player of the gateway: (access token, player id).</summary>
    public async Task<(string Token, string PlayerId)> GuestAsync(string device)
    {
        using var response = await _gatewayHttp!.PostAsJsonAsync("/v1/auth/guest", new { deviceId = device, displayName = device[..Math.Min(device.Length, 16)] }, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"guest sign-in: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        var json = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        return (json.GetProperty("accessToken").GetString()!, json.GetProperty("playerId").GetString()!);
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> GatewayAsync(string? token, HttpMethod method, string path, object? body = null, Action<HttpRequestMessage>? extra = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: ServiceDefaults.JsonOptions);
        }
        extra?.Invoke(request);
        using var response = await _gatewayHttp!.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Joins through the gateway: the seat and a ticket.</summary>
    public async Task<JoinTicket> TicketAsync(string token, string matchId)
    {
        var (status, body) = await GatewayAsync(token, HttpMethod.Post, $"/v1/combat/matches/{matchId}/join");
        Assert.True(status == HttpStatusCode.OK, $"join {matchId} through the gateway: {(int)status} {body}");
        return body.Deserialize<JoinTicket>(ServiceDefaults.JsonOptions)!;
    }

    public static Task<MatchClient> ConnectAsync(JoinTicket ticket, string? matchParameter = null) =>
        MatchClient.ConnectAsync(new Uri(ticket.Address), matchParameter ?? ticket.MatchId, ticket.Ticket);

    /// <summary>The match socket of the combat node with any ticket text (for refusals).</summary>
    public Task<MatchClient> ConnectRawAsync(string matchId, string ticket) =>
        MatchClient.ConnectAsync(new Uri($"ws://127.0.0.1:{Combat.AppPort}{CombatRoutes.Socket}"), matchId, ticket);

    /// <summary>The next combat event of CloudEvent type <paramref name="type"/> (others are skipped).</summary>
    public async Task<JsonObject> NextEventAsync(string type, Func<JsonObject, bool>? match = null)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (true)
        {
            JsonObject e;
            try
            {
                e = await _events.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no {type} event within {WaitLimit}");
            }
            if (e["type"]?.GetValue<string>() == type && (match is null || match(e)))
            {
                return e;
            }
        }
    }

    /// <summary>Counts what the combat node's meter records (by instrument and <c>reason</c> tag) and signals thresholds.</summary>
    public MetricProbe Metrics() => new(Combat.Services.GetRequiredService<IMeterFactory>());

    public async ValueTask DisposeAsync()
    {
        if (Combat is not null)
        {
            await Combat.DisposeAsync();
        }
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }
        _asGateway?.Dispose();
        _asRecorder?.Dispose();
        _gatewayHttp?.Dispose();
        if (_recorder is not null)
        {
            await _recorder.DisposeAsync();
        }
        if (_recorderApp is not null)
        {
            await _recorderApp.StopAsync(CancellationToken.None);
            await _recorderApp.DisposeAsync();
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

    private async Task StartRecorderAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/dapr/subscribe", () => Results.Json(new object[]
        {
            new { pubsubname = Components.PubSub, topic = Topics.Combat, route = "/combat" },
        }));
        app.MapPost("/combat", async (HttpRequest request) =>
        {
            var node = await JsonNode.ParseAsync(request.Body);
            await _events.Writer.WriteAsync(node!.AsObject());
            return Results.Ok();
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        _recorderApp = app;
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        _recorder = await TestSidecar.StartAsync("recorder", new Dictionary<string, string> { ["pubsub.yaml"] = _resources["pubsub.yaml"] }, o => o.AppPort = port, _environment);
        await _recorder.Host.Ready.WaitAsync(WaitLimit, TestContext.Current.CancellationToken);
        _asRecorder = DaprClient.CreateInvokeHttpClient(AppIds.Combat, _recorder.Host.HttpEndpoint);
    }
}

/// <summary>
/// Sums of the combat meter's counters for one app (its <see cref="IMeterFactory"/>), by instrument and reason, with
/// waits that complete when a sum reaches a value.
/// </summary>
public sealed class MetricProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _sums = new(StringComparer.Ordinal);
    private readonly List<(string Key, long AtLeast, TaskCompletionSource Done)> _waiters = [];

    public MetricProbe(IMeterFactory scope)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Infrastructure.CombatMetrics.Name && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    reason = tag.Value as string;
                }
            }
            Add(instrument.Name, value);
            if (reason is not null)
            {
                Add(instrument.Name + "/" + reason, value);
            }
        });
        _listener.Start();
    }

    public long Sum(string instrument, string? reason = null)
    {
        lock (_sums)
        {
            return _sums.GetValueOrDefault(reason is null ? instrument : instrument + "/" + reason);
        }
    }

    public async Task WaitAsync(string instrument, string? reason, long atLeast)
    {
        var key = reason is null ? instrument : instrument + "/" + reason;
        Task task;
        lock (_sums)
        {
            if (_sums.GetValueOrDefault(key) >= atLeast)
            {
                return;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((key, atLeast, done));
            task = done.Task;
        }
        try
        {
            await task.WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{key} did not reach {atLeast} within {CombatRig.WaitLimit} (it is {Sum(instrument, reason)})");
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Add(string key, long value)
    {
        lock (_sums)
        {
            var sum = _sums[key] = _sums.GetValueOrDefault(key) + value;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Key == key && sum >= _waiters[i].AtLeast)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
