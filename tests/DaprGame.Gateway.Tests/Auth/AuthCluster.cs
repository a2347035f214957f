using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Gateway.Auth;
using DaprGame.Hosting;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.PubSub;
using DaprGame.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Gateway.Tests.Auth;

/// <summary>
/// One or more real gateway replicas in-process, each with its own local sidecar, sharing one SQLite state file and
/// one in-memory broker (<c>pubsub</c> and <c>broadcast</c> are views of it), and one <see cref="FakeTimeProvider"/>.
/// Optionally a probe app subscribed to <c>player</c> on <c>pubsub</c> records every CloudEvent published there.
/// </summary>
internal sealed class AuthCluster : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _folder;
    private readonly List<HttpClient> _clients = [];

    private AuthCluster(string folder) => _folder = folder;

    public FakeTimeProvider Time { get; } = new(Start);

    public List<ServiceNode> Gateways { get; } = [];

    public ServiceNode? Probe { get; private set; }

    /// <summary>Raw CloudEvents (envelope included) the probe received on <c>pubsub</c>/<c>player</c>.</summary>
    public Channel<JsonElement> PlayerEvents { get; } = Channel.CreateUnbounded<JsonElement>();

    public static async Task<AuthCluster> StartAsync(int replicas = 1, bool probe = false, IReadOnlyDictionary<string, string>? settings = null)
    {
        var cluster = new AuthCluster(Directory.CreateTempSubdirectory("daprgame-auth-").FullName);
        try
        {
            var environment = new SidecarEnvironment { InMemoryBroker = new InMemoryBroker(), Registry = new InProcessAppRegistry() };
            var resources = cluster.Resources();
            for (var i = 0; i < replicas; i++)
            {
                cluster.Gateways.Add(await ServiceNode.StartAsync(AppIds.Gateway, GatewayApp.Build, resources, environment, b =>
                {
                    b.Configuration["Auth:Pbkdf2Iterations"] = "1000";
                    foreach (var (key, value) in settings ?? new Dictionary<string, string>())
                    {
                        b.Configuration[key] = value;
                    }
                    b.Services.AddSingleton<TimeProvider>(cluster.Time);
                }));
            }
            if (probe)
            {
                cluster.Probe = await ServiceNode.StartAsync("probe", cluster.BuildProbe, resources, environment);
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    public AuthClient Client(int replica = 0)
    {
        var http = new HttpClient { BaseAddress = Gateways[replica].AppAddress };
        _clients.Add(http);
        return new AuthClient(http);
    }

    public SessionRevocationHub Hub(int replica = 0) => Gateways[replica].Services.GetRequiredService<SessionRevocationHub>();

    /// <summary>The signing keys as stored (kid → private key), read through a sidecar as any Dapr app could.</summary>
    public async Task<(string CurrentKid, Dictionary<string, ECDsa> Keys)> ReadKeyRingAsync()
    {
        var ring = await Gateways[0].Sidecar!.Client.GetStateAsync<JsonElement>(Components.StateStore, "auth-keyring", cancellationToken: TestContext.Current.CancellationToken);
        var keys = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
        foreach (var k in ring.GetProperty("keys").EnumerateArray())
        {
            var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(k.GetProperty("pkcs8").GetString()!), out _);
            keys[k.GetProperty("kid").GetString()!] = key;
        }
        return (ring.GetProperty("currentKid").GetString()!, keys);
    }

    /// <summary>The next CloudEvent the probe receives, or a failure naming what was awaited.</summary>
    public async Task<JsonElement> NextPlayerEventAsync(string awaited)
    {
        try
        {
            return await PlayerEvents.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No event on topic 'player' within 30 s: expected {awaited}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients)
        {
            c.Dispose();
        }
        if (Probe is not null)
        {
            await Probe.DisposeAsync();
        }
        foreach (var g in Gateways)
        {
            await g.DisposeAsync();
        }
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may hold the file for a moment after the sidecars stop; the temp cleaner takes the rest.
        }
    }

    private Dictionary<string, string> Resources() => new()
    {
        ["statestore.yaml"] = $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.sqlite
              version: v1
              metadata:
              - name: connectionString
                value: "{Path.Combine(_folder, "state.db")}"
            """,
        ["pubsub.yaml"] = """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
            """,
        ["broadcast.yaml"] = """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: broadcast
            spec:
              type: pubsub.in-memory
              version: v1
              metadata:
              - name: consumerID
                value: "{podName}"
            """,
    };

    /// <summary>A bare subscriber app that keeps each raw CloudEvent published on <c>player</c>.</summary>
    private WebApplication BuildProbe(string[] args, Action<WebApplicationBuilder> configure)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure(builder);
        builder.Services.AddDaprClient();
        var app = builder.Build();
        app.MapSubscribeHandler();
        app.MapPost("/player-events", async (HttpRequest request) =>
        {
            using var doc = await JsonDocument.ParseAsync(request.Body);
            PlayerEvents.Writer.TryWrite(doc.RootElement.Clone());
            return Results.Ok();
        }).WithTopic(Components.PubSub, Topics.Players);
        return app;
    }
}

/// <summary>The auth routes, as a client calls them.</summary>
internal sealed class AuthClient(HttpClient http)
{
    public HttpClient Http => http;

    public Task<HttpResponseMessage> PostAsync(string path, object body) =>
        http.PostAsJsonAsync(path, body, ServiceDefaults.JsonOptions, TestContext.Current.CancellationToken);

    public async Task<AuthTokenResponse> RegisterAsync(string username, string password = "correct-horse", string? displayName = null) =>
        await ReadTokensAsync(await PostAsync("/v1/auth/register", new { username, password, displayName }), $"register {username}");

    public async Task<AuthTokenResponse> LoginAsync(string username, string password = "correct-horse") =>
        await ReadTokensAsync(await PostAsync("/v1/auth/login", new { username, password }), $"login {username}");

    public async Task<AuthTokenResponse> GuestAsync(string deviceId) =>
        await ReadTokensAsync(await PostAsync("/v1/auth/guest", new { deviceId }), $"guest {deviceId}");

    public Task<HttpResponseMessage> RefreshAsync(string refreshToken) => PostAsync("/v1/auth/refresh", new { refreshToken });

    public Task<HttpResponseMessage> MeAsync(string? accessToken) => SendAsync(HttpMethod.Get, "/v1/auth/me", accessToken);

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? accessToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        return http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public static async Task<AuthTokenResponse> ReadTokensAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{what}: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<AuthTokenResponse>(body, ServiceDefaults.JsonOptions)!;
    }

    /// <summary>Status, <c>code</c> extension and whole body of a ProblemDetails answer.</summary>
    public static async Task<(int Status, string? Code, JsonElement Body)> ProblemAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var body = text.Length == 0 ? default : JsonSerializer.Deserialize<JsonElement>(text);
        var code = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("code", out var c) ? c.GetString() : null;
        return ((int)response.StatusCode, code, body);
    }
}
