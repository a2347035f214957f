using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Trading;
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

namespace DaprGame.Trading.Tests;

/// <summary>
/// The real trading app (TradingApp.Build) with its own local sidecar (state.sqlite as actor store, pubsub.in-memory),
/// and a "gateway" app with its own sidecar that records every trading event and through which the tests call trading
/// by service invocation, as the real gateway does. Each rig has its own registry, broker and database.
/// </summary>
public sealed class TradingRig : IAsyncDisposable
{
    public const string Instrument = "iron-sword-GOLD";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly string _folder;
    private readonly SidecarEnvironment _environment;
    private readonly Dictionary<string, string> _resources;
    private readonly Channel<JsonObject> _events = Channel.CreateUnbounded<JsonObject>();
    private WebApplication? _gatewayApp;
    private TestSidecar? _gateway;
    private HttpClient? _http;

    private TradingRig(string folder, TimeProvider? time)
    {
        _folder = folder;
        _environment = new SidecarEnvironment { InMemoryBroker = new InMemoryBroker(), Registry = new InProcessAppRegistry(), Time = time ?? TimeProvider.System };
        _resources = new Dictionary<string, string>
        {
            ["statestore.yaml"] = Yaml.Component(Components.StateStore, "state.sqlite", new Dictionary<string, string>
            {
                ["connectionString"] = Path.Combine(folder, "trading.db"),
                ["actorStateStore"] = "true",
            }),
            ["pubsub.yaml"] = Yaml.Component(Components.PubSub, "pubsub.in-memory"),
        };
    }

    public ServiceNode Trading { get; private set; } = null!;

    /// <param name="time">The clock of the trading app and of both sidecars (reminders, timers); the real one when null.</param>
    public static async Task<TradingRig> StartAsync(Dictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var rig = new TradingRig(Directory.CreateTempSubdirectory("daprgame-trading-").FullName, time);
        try
        {
            await rig.StartGatewayAsync();
            rig.Trading = await ServiceNode.StartAsync(AppIds.Trading, TradingApp.Build, rig._resources, rig._environment, b =>
            {
                b.Configuration["Trading:SettlementRetry"] = "00:00:01";
                b.Configuration.AddInMemoryCollection(settings ?? []);
                if (time is not null)
                {
                    b.Services.AddSingleton(time);
                }
            });
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
        return rig;
    }

    /// <summary>Stops the trading sidecar (every actor deactivates) and the app, then starts both again on the same database.</summary>
    public async Task RestartTradingAsync()
    {
        await Trading.StopSidecarAsync();
        await Trading.StopAppAsync();
        await Trading.StartAppAsync();
        await Trading.StartSidecarAsync(_resources, _environment);
    }

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string route, string? player, object? body = null, bool admin = false)
    {
        using var request = new HttpRequestMessage(method, route.TrimStart('/'));
        if (player is not null)
        {
            request.Headers.Add(TradingHeaders.PlayerId, player);
        }
        request.Headers.Add(TradingHeaders.Roles, admin ? "player,admin" : "player");
        if (body is not null)
        {
            request.Content = body as HttpContent ?? JsonContent.Create(body, body.GetType(), options: ServiceDefaults.JsonOptions);
        }
        using var response = await _http!.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<T> OkAsync<T>(HttpMethod method, string route, string player, object? body = null, bool admin = false)
    {
        var (status, json) = await SendAsync(method, route, player, body, admin);
        Assert.True((int)status is >= 200 and < 300, $"{method} {route} as {player}: {(int)status} {json?.ToJsonString()}");
        return json.Deserialize<T>(ServiceDefaults.JsonOptions)!;
    }

    public async Task<JsonNode> ProblemAsync(HttpMethod method, string route, string? player, object? body, HttpStatusCode status, string code, bool admin = false)
    {
        var (actual, json) = await SendAsync(method, route, player, body, admin);
        Assert.True(status == actual, $"{method} {route} as {player}: expected {(int)status} {code}, got {(int)actual} {json?.ToJsonString()}");
        Assert.Equal(code, json?["code"]?.GetValue<string>());
        return json!;
    }

    /// <summary>Mints into a player's wallet as an admin (idempotent by <paramref name="key"/>).</summary>
    public Task<WalletView> MintAsync(string player, Assets assets, string? key = null) =>
        OkAsync<WalletView>(HttpMethod.Post, TradingRoutes.AdminMint(player), "admin-1", new AdminAdjustment(key ?? Guid.NewGuid().ToString("N"), assets, "test funds"), admin: true);

    public Task<WalletView> WalletAsync(string player) => OkAsync<WalletView>(HttpMethod.Get, TradingRoutes.Wallet, player);

    public Task<OrderView> PlaceAsync(string player, string clientOrderId, OrderSide side, long price, long quantity, OrderKind kind = OrderKind.Limit,
        DateTimeOffset? expiresAt = null) =>
        OkAsync<OrderView>(HttpMethod.Post, TradingRoutes.Orders, player, new PlaceOrder(Instrument, clientOrderId, side, kind, price, quantity, expiresAt));

    public static Assets Gold(long amount) => new() { Currencies = { ["GOLD"] = amount } };

    public static Assets Swords(long count) => new() { Stacks = { ["iron-sword"] = count } };

    public static (long Available, long Held) Gold(WalletView w) =>
        w.Currencies.FirstOrDefault(c => c.Currency == "GOLD") is { } c ? (c.Available, c.Held) : (0, 0);

    public static (long Available, long Held) Swords(WalletView w) =>
        w.Stacks.FirstOrDefault(s => s.ItemType == "iron-sword") is { } s ? (s.Available, s.Held) : (0, 0);

    /// <summary>Publishes <paramref name="data"/> as a CloudEvent of <paramref name="type"/> on <paramref name="topic"/>, as another service would.</summary>
    public async Task PublishAsync(string topic, string type, object data)
    {
        using var publisher = new HttpClient { BaseAddress = new Uri(_gateway!.Host.HttpEndpoint) };
        var envelope = new Dictionary<string, object?>
        {
            ["specversion"] = "1.0", ["id"] = Guid.NewGuid().ToString("N"), ["source"] = "test", ["type"] = type,
            ["datacontenttype"] = "application/json", ["data"] = data,
        };
        using var content = JsonContent.Create(envelope, options: ServiceDefaults.JsonOptions);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/cloudevents+json");
        using var response = await publisher.PostAsync($"v1.0/publish/{Components.PubSub}/{topic}", content, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"publish to {topic}: {(int)response.StatusCode}");
    }

    /// <summary>The next trading event of CloudEvent type <paramref name="type"/> (others are skipped).</summary>
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

    /// <summary>Waits until <paramref name="settlementId"/> is no longer pending (polling its state, each poll a real call).</summary>
    public async Task<SettlementView> SettledAsync(string settlementId, string party)
    {
        var completed = await NextEventAsync("trading.settlement.completed.v1", e => e["data"]!["settlementId"]!.GetValue<string>() == settlementId);
        Assert.NotNull(completed);
        return await OkAsync<SettlementView>(HttpMethod.Get, TradingRoutes.Settlement(settlementId), party);
    }

    public async ValueTask DisposeAsync()
    {
        if (Trading is not null)
        {
            await Trading.DisposeAsync();
        }
        _http?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        if (_gatewayApp is not null)
        {
            await _gatewayApp.StopAsync(CancellationToken.None);
            await _gatewayApp.DisposeAsync();
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

    private async Task StartGatewayAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/dapr/subscribe", () => Results.Json(new object[]
        {
            new { pubsubname = Components.PubSub, topic = Topics.Trading, route = "/trading" },
            new { pubsubname = Components.PubSub, topic = Topics.TradingMarket, route = "/trading" },
        }));
        app.MapPost("/trading", async (HttpRequest request) =>
        {
            var node = await JsonNode.ParseAsync(request.Body);
            await _events.Writer.WriteAsync(node!.AsObject());
            return Results.Ok();
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        _gatewayApp = app;
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        // App id "gateway": the one app trading believes about the acting player.
        _gateway = await TestSidecar.StartAsync(AppIds.Gateway, new Dictionary<string, string> { ["pubsub.yaml"] = _resources["pubsub.yaml"] }, o => o.AppPort = port, _environment);
        await _gateway.Host.Ready.WaitAsync(WaitLimit, TestContext.Current.CancellationToken);
        _http = DaprClient.CreateInvokeHttpClient(AppIds.Trading, _gateway.Host.HttpEndpoint);
    }
}
