using DaprGame.Sidecar;
using DaprGame.Sidecar.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace DaprGame.Testing;

/// <summary>
/// Builds a service's web application: the service's own <c>&lt;Service&gt;App.Build(args, configure)</c>.
/// </summary>
public delegate WebApplication ServiceBuilder(string[] args, Action<WebApplicationBuilder> configure);

/// <summary>
/// One replica of a real service, in-process on a free loopback port, with its own local sidecar: the service's
/// Dapr client and actor runtime point at that sidecar through configuration (<c>DAPR_HTTP_ENDPOINT</c>,
/// <c>DAPR_GRPC_ENDPOINT</c>), as <c>dapr run</c> would arrange with environment variables. Replicas that should see
/// each other (invocation, actor placement, a shared in-memory broker) share one <see cref="SidecarEnvironment"/>.
/// </summary>
public sealed class ServiceNode : IAsyncDisposable
{
    private readonly ServiceBuilder _build;
    private readonly Action<WebApplicationBuilder>? _configure;
    private WebApplication? _app;

    private ServiceNode(string appId, ServiceBuilder build, Action<WebApplicationBuilder>? configure, int appPort, int httpPort, int grpcPort)
    {
        AppId = appId;
        _build = build;
        _configure = configure;
        AppPort = appPort;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
    }

    public string AppId { get; }

    public int AppPort { get; }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    /// <summary>The app's own address, for clients that talk to it directly (the gateway's HTTP and WebSocket).</summary>
    public Uri AppAddress => new($"http://127.0.0.1:{AppPort}");

    public TestSidecar? Sidecar { get; private set; }

    public WebApplication? App => _app;

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException($"{AppId}: the app is not running.");

    /// <summary>
    /// Starts the app, then its sidecar (with <paramref name="resources"/>, name → YAML), and waits until the sidecar
    /// reports ready (app port answering, subscriptions running).
    /// </summary>
    public static async Task<ServiceNode> StartAsync(
        string appId,
        ServiceBuilder build,
        IReadOnlyDictionary<string, string> resources,
        SidecarEnvironment environment,
        Action<WebApplicationBuilder>? configure = null,
        Action<SidecarOptions>? sidecar = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var httpPort = SidecarHost.FreePort();
            var grpcPort = SidecarHost.FreePort(except: httpPort);
            var appPort = FreePortExcept(httpPort, grpcPort);
            var node = new ServiceNode(appId, build, configure, appPort, httpPort, grpcPort);
            try
            {
                await node.StartAppAsync();
                await node.StartSidecarAsync(resources, environment, sidecar);
                return node;
            }
            catch (IOException e) when (attempt < 3 && e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // A free port was taken by another process between being picked and being bound: start over on new ones.
                await node.DisposeAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }
    }

    public async Task StartAppAsync()
    {
        var app = _build([], builder =>
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{AppPort}");
            builder.Configuration["APP_ID"] = AppId;
            builder.Configuration["DAPR_HTTP_ENDPOINT"] = $"http://127.0.0.1:{HttpPort}";
            builder.Configuration["DAPR_GRPC_ENDPOINT"] = $"http://127.0.0.1:{GrpcPort}";
            builder.Logging.ClearProviders();
            _configure?.Invoke(builder);
        });
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

    public async Task StartSidecarAsync(IReadOnlyDictionary<string, string> resources, SidecarEnvironment environment, Action<SidecarOptions>? sidecar = null)
    {
        Sidecar = await TestSidecar.StartAsync(AppId, resources, o =>
        {
            o.AppPort = AppPort;
            o.HttpPort = HttpPort;
            o.GrpcPort = GrpcPort;
            sidecar?.Invoke(o);
        }, environment);
        await Sidecar.Host.Ready.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
    }

    public async Task StopSidecarAsync()
    {
        if (Sidecar is { } s)
        {
            Sidecar = null;
            await s.DisposeAsync();
        }
    }

    /// <summary>Stops the app, then its sidecar — the order of a pod shutting down, so the app's last calls still land.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAppAsync();
        await StopSidecarAsync();
    }

    private static int FreePortExcept(int a, int b)
    {
        while (true)
        {
            var port = SidecarHost.FreePort(except: a);
            if (port != b)
            {
                return port;
            }
        }
    }
}
