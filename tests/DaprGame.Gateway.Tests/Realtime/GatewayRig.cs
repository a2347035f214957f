using System.Security.Claims;
using System.Text.Encodings.Web;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Chat;
using DaprGame.Gateway.Auth;
using DaprGame.Gateway.Realtime;
using DaprGame.Hosting;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>
/// The real gateway app in-process with its own local sidecar (<c>state.in-memory</c> as statestore, in-memory pub/sub
/// as pubsub and broadcast), a <see cref="FakeChat"/> behind <see cref="IChatClient"/>, test tokens
/// <c>test:{playerId}:{sessionId}</c>, and a <see cref="FakeTimeProvider"/>. Chat events reach the gateway the real
/// way: published on the sidecar's <c>broadcast</c> component, delivered to the gateway's subscription.
/// </summary>
public sealed class GatewayRig : IAsyncDisposable
{
    private readonly DaprClient _publisher;

    private GatewayRig(ServiceNode node, FakeChat chat, FakeTimeProvider time, DaprClient publisher)
    {
        Node = node;
        Chat = chat;
        Time = time;
        _publisher = publisher;
        chat.Publisher = PublishAsync;
    }

    public ServiceNode Node { get; }

    public FakeChat Chat { get; }

    public FakeTimeProvider Time { get; }

    public Uri SocketUri => new($"ws://127.0.0.1:{Node.AppPort}/ws");

    public Uri HttpUri => Node.AppAddress;

    public ConnectionRegistry Connections => Node.Services.GetRequiredService<ConnectionRegistry>();

    public static async Task<GatewayRig> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var chat = new FakeChat();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        chat.Now = time.GetUtcNow();
        var resources = new Dictionary<string, string>
        {
            ["statestore.yaml"] = Yaml.Component(Components.StateStore, "state.in-memory"),
            ["pubsub.yaml"] = Yaml.Component(Components.PubSub, "pubsub.in-memory"),
            ["broadcast.yaml"] = Yaml.Component(Components.Broadcast, "pubsub.in-memory"),
        };
        var environment = new SidecarEnvironment { Registry = new InProcessAppRegistry() };
        var node = await ServiceNode.StartAsync(AppIds.Gateway, GatewayApp.Build, resources, environment, builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
            builder.Services.AddSingleton<IChatClient>(chat);
            builder.Services.AddSingleton<TimeProvider>(time);
            // The gateway's own "Bearer" scheme and socket handshake use whichever validator is registered last: this one.
            builder.Services.AddSingleton<IAccessTokenValidator, TestTokenValidator>();
            builder.Logging.ClearProviders();
            if (Environment.GetEnvironmentVariable("DAPRGAME_TEST_LOGS") == "1")
            {
                builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
            }
        });
        var publisher = new DaprClientBuilder()
            .UseGrpcEndpoint(node.Sidecar!.Host.GrpcEndpoint)
            .UseHttpEndpoint(node.Sidecar.Host.HttpEndpoint)
            .UseJsonSerializationOptions(ServiceDefaults.JsonOptions)
            .Build();
        return new GatewayRig(node, chat, time, publisher);
    }

    /// <summary>Publishes a chat event on <c>broadcast</c>/<c>chat</c>, as chat's publication reaches each gateway replica.</summary>
    public Task PublishAsync(ChannelEvent evt) =>
        _publisher.PublishEventAsync<ChannelEvent>(Components.Broadcast, Topics.Chat, evt, TestContext.Current.CancellationToken);

    public Task<TestSocket> ConnectAsync(string playerId, string session = "s1", string? origin = null, bool resume = false) =>
        TestSocket.ConnectAsync(SocketUri, $"test:{playerId}:{session}", origin, resume: resume);

    /// <summary>Connects, reads the welcome and starts the socket with a ping, so live pushes flow.</summary>
    public async Task<(TestSocket Socket, System.Text.Json.JsonElement Welcome)> ConnectStartedAsync(string playerId, string session = "s1")
    {
        var socket = await ConnectAsync(playerId, session);
        var welcome = await socket.ExpectAsync(Frames.Welcome);
        await socket.RequestAsync("ping", null);
        return (socket, welcome);
    }

    public async ValueTask DisposeAsync()
    {
        _publisher.Dispose();
        await Node.DisposeAsync();
    }
}

/// <summary>Accepts <c>test:{playerId}:{sessionId}</c>; anything else is refused.</summary>
public sealed class TestTokenValidator : IAccessTokenValidator
{
    public static PlayerIdentity? Read(string token)
    {
        var parts = token.Split(':');
        return parts.Length == 3 && parts[0] == "test" && parts[1].Length > 0 && parts[2].Length > 0
            ? new PlayerIdentity(parts[1], parts[2], parts[1], [GatewayRoles.Player], DateTimeOffset.MaxValue)
            : null;
    }

    public ValueTask<AccessTokenCheck> ValidateAsync(string token, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Read(token) is { } identity ? AccessTokenCheck.Valid(identity) : AccessTokenCheck.Invalid("not a test token"));
}
