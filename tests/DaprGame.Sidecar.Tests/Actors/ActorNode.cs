using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Actors.Runtime;
using DaprGame.Sidecar.Hosting;
using DaprGame.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Tests.Actors;

/// <summary>
/// One replica: a real Dapr.Actors.AspNetCore app on a free loopback port, registered as a service would register
/// it, plus its own local sidecar. Replicas of one test share a registry (placement) and a state.sqlite file.
/// </summary>
public sealed class ActorNode : IAsyncDisposable
{
    private WebApplication? _app;

    private ActorNode(string name, int appPort, int httpPort)
    {
        Name = name;
        AppPort = appPort;
        HttpPort = httpPort;
    }

    public string Name { get; }

    public int AppPort { get; }

    public int HttpPort { get; }

    public TestSidecar? Sidecar { get; private set; }

    public string HttpEndpoint => $"http://127.0.0.1:{HttpPort}";

    public static string SqliteResources(string databasePath, bool actorStore = true) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: actorstore
        spec:
          type: state.sqlite
          version: v1
          metadata:
          - name: connectionString
            value: "{databasePath}"
          - name: actorStateStore
            value: "{(actorStore ? "true" : "false")}"
        """;

    public static async Task<ActorNode> StartAsync(string name, string resourcesYaml, SidecarEnvironment environment, Action<ActorRuntimeOptions>? configure = null)
    {
        var httpPort = SidecarHost.FreePort();
        var node = new ActorNode(name, SidecarHost.FreePort(except: httpPort), httpPort);
        await node.StartAppAsync(configure);
        try
        {
            await node.StartSidecarAsync(resourcesYaml, environment);
            await node.Sidecar!.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    public async Task StartAppAsync(Action<ActorRuntimeOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{AppPort}");
        builder.Services.AddSingleton(new AppName(Name));
        builder.Services.AddActors(o =>
        {
            o.HttpEndpoint = HttpEndpoint;
            o.ReentrancyConfig = new ActorReentrancyConfig { Enabled = true, MaxStackDepth = 8 };
            o.Actors.RegisterActor<TestActor>(new ActorRuntimeOptions { ReentrancyConfig = new ActorReentrancyConfig { Enabled = false } });
            o.Actors.RegisterActor<ReentrantActor>();
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.MapActorsHandlers();
        await app.StartAsync(TestContext.Current.CancellationToken);
        _app = app;
    }

    public async Task StopAppAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    public async Task StartSidecarAsync(string resourcesYaml, SidecarEnvironment environment)
    {
        Sidecar = await TestSidecar.StartAsync("actors", new Dictionary<string, string> { ["store.yaml"] = resourcesYaml }, o =>
        {
            o.AppPort = AppPort;
            o.HttpPort = HttpPort;
        }, environment);
    }

    public async Task StopSidecarAsync()
    {
        if (Sidecar is { } s)
        {
            Sidecar = null;
            await s.DisposeAsync();
        }
    }

    public string? InstanceId => Sidecar?.Host.Runtime.Options.InstanceId;

    public T Proxy<T>(string id, string type = nameof(TestActor)) where T : IActor =>
        ActorProxy.Create<T>(new ActorId(id), type, new ActorProxyOptions { HttpEndpoint = HttpEndpoint, RequestTimeout = TimeSpan.FromSeconds(30) });

    public ActorProxy Untyped(string id, string type = nameof(TestActor)) =>
        ActorProxy.Create(new ActorId(id), type, new ActorProxyOptions { HttpEndpoint = HttpEndpoint, RequestTimeout = TimeSpan.FromSeconds(30) });

    public async ValueTask DisposeAsync()
    {
        await StopSidecarAsync();
        await StopAppAsync();
    }
}
