using System.Net;
using System.Net.Sockets;
using DaprGame.Sidecar.Api;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.PubSub;
using DaprGame.Sidecar.State;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DaprGame.Sidecar.Hosting;

/// <summary>What a host embedding the sidecar may supply: time, logging and the registry that lets sidecars find each other.</summary>
public sealed class SidecarEnvironment
{
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILoggerFactory Logging { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// How this sidecar finds other apps' sidecars for service invocation. Defaults to the process-wide
    /// <see cref="InProcessAppRegistry.Shared"/>; separately started processes use a <see cref="FileAppRegistry"/>.
    /// </summary>
    public IAppRegistry Registry { get; init; } = InProcessAppRegistry.Shared;

    /// <summary>
    /// When set, every <c>pubsub.in-memory</c> component of the sidecars started with this environment is a view of
    /// this one broker, whatever the component's name — as two Redis components pointing at one server share its
    /// streams. The local launcher sets it because all its sidecars live in its one process, so the embedded profile
    /// carries events between services; unset (the default, and what tests of the component use) each sidecar has
    /// its own, as each daprd process has under real Dapr.
    /// </summary>
    public PubSub.InMemoryBroker? InMemoryBroker { get; init; }
}

/// <summary>
/// One running sidecar: the Dapr HTTP API and gRPC API on loopback (IPv4 and IPv6, as daprd listens on
/// <c>localhost</c>), its components, and its channel to the app. Start it with <see cref="StartAsync"/>; it is
/// ready (<c>/v1.0/healthz</c> = 204) once the app port answers and subscriptions run.
/// </summary>
public sealed class SidecarHost : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly List<ISidecarFeature> _features;
    private readonly Task _startup;
    private int _disposed;

    private SidecarHost(WebApplication web, SidecarRuntime runtime, List<ISidecarFeature> features, int httpPort, int grpcPort)
    {
        _web = web;
        Runtime = runtime;
        _features = features;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        _startup = Task.Run(() => ConnectAppAsync(runtime.Stopping.Token));
    }

    public SidecarRuntime Runtime { get; }

    public string AppId => Runtime.Options.AppId;

    public int HttpPort { get; }

    public int GrpcPort { get; }

    /// <summary>The Dapr HTTP endpoint (for <c>DAPR_HTTP_ENDPOINT</c>).</summary>
    public string HttpEndpoint => $"http://127.0.0.1:{HttpPort}";

    /// <summary>The Dapr gRPC endpoint (for <c>DAPR_GRPC_ENDPOINT</c>).</summary>
    public string GrpcEndpoint => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>Completes when the app channel is connected and the sidecar reports ready; faults if that failed.</summary>
    public Task Ready => Runtime.AppReady;

    /// <summary>Cancelled when the sidecar is asked to stop through its Shutdown API.</summary>
    public CancellationToken ShutdownRequested => Runtime.Stopping.Token;

    public static async Task<SidecarHost> StartAsync(SidecarOptions options, SidecarEnvironment? environment = null, CancellationToken cancellationToken = default)
    {
        environment ??= new SidecarEnvironment();
        if (string.IsNullOrWhiteSpace(options.AppId))
        {
            throw new ArgumentException("an app-id is required (--app-id)", nameof(options));
        }
        if (options.AppProtocol != "http")
        {
            throw new ArgumentException($"app protocol '{options.AppProtocol}' is not implemented by the local sidecar (only http)", nameof(options));
        }

        var resources = ResourceLoader.Load(options);
        var context = new ComponentContext(options, environment.Time, environment.Logging) { SharedInMemoryBroker = environment.InMemoryBroker };
        var components = await ComponentRegistry.CreateAsync(resources, context, cancellationToken);
        var runtime = new SidecarRuntime(options, resources, components, environment.Time, environment.Logging);
        if (options.AppPort is not null)
        {
            runtime.AppChannel = new AppChannel(options, environment.Logging.CreateLogger("DaprGame.Sidecar.AppChannel"));
        }

        var httpPort = options.HttpPort == 0 ? FreePort() : options.HttpPort;
        var grpcPort = options.GrpcPort == 0 ? FreePort(except: httpPort) : options.GrpcPort;

        var features = SidecarFeatures.Create(runtime, environment, httpPort);
        var grpcTable = new GrpcMethodTable();
        foreach (var f in features)
        {
            f.MapGrpc(grpcTable);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(environment.Logging);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 4 * 1024 * 1024;
            k.ListenLocalhost(httpPort, l => l.Protocols = HttpProtocols.Http1);
            k.ListenLocalhost(grpcPort, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddRouting();
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<DaprGrpcInterceptor>(options, runtime);
            o.MaxReceiveMessageSize = 16 * 1024 * 1024;
        });
        builder.Services.AddSingleton(grpcTable);
        builder.Services.AddSingleton<IServiceMethodProvider<DaprGrpcService>, DaprGrpcMethodProvider>();

        var web = builder.Build();
        web.Use((ctx, next) => ctx.Connection.LocalPort == httpPort ? CheckApiTokenAsync(ctx, next, options) : next(ctx));
        web.Use(DaprHttp.HandleErrorsAsync);
        if (runtime.Tracer is { } tracer)
        {
            web.Use((ctx, next) => Tracing.ApiSpans.HttpAsync(ctx, next, tracer));
        }
        var http = web.MapGroup("").RequireHost($"*:{httpPort}");
        foreach (var f in features)
        {
            f.MapHttp(http);
        }
        web.MapGrpcService<DaprGrpcService>().RequireHost($"*:{grpcPort}");

        try
        {
            await web.StartAsync(cancellationToken);
        }
        catch
        {
            await components.DisposeAsync();
            throw;
        }
        return new SidecarHost(web, runtime, features, httpPort, grpcPort);
    }

    /// <summary>daprd's API token check: every HTTP route but the two health checks; the header is removed once checked.</summary>
    private static Task CheckApiTokenAsync(HttpContext context, RequestDelegate next, SidecarOptions options)
    {
        if (options.ApiToken is not { Length: > 0 } expected)
        {
            return next(context);
        }
        var path = context.Request.Path;
        if (HttpMethods.IsGet(context.Request.Method) && (path == "/v1.0/healthz" || path == "/v1.0/healthz/outbound"))
        {
            return next(context);
        }
        // Calls from peer sidecars carry the callee's internal key instead (checked by the invocation feature).
        if (path.StartsWithSegments(HttpForwarding.InternalPrefix, StringComparison.Ordinal)
            || path.StartsWithSegments(Actors.ActorsFeature.InternalPrefix, StringComparison.Ordinal))
        {
            return next(context);
        }
        var token = context.Request.Headers["dapr-api-token"].ToString();
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(expected)))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("invalid api token");
        }
        context.Request.Headers.Remove("dapr-api-token");
        return next(context);
    }

    private async Task ConnectAppAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (Runtime.AppChannel is { } channel)
            {
                await channel.WaitForAppAsync(cancellationToken);
            }
            foreach (var f in _features)
            {
                await f.OnAppReadyAsync(cancellationToken);
            }
            Runtime.MarkReady();
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            Runtime.Logging.CreateLogger("DaprGame.Sidecar").LogError(e, "sidecar for {AppId} failed to connect to its app", AppId);
            Runtime.MarkFailed(e);
        }
    }

    /// <summary>A port that was free a moment ago on loopback (daprd also picks random free ports when asked for none).</summary>
    public static int FreePort(int except = -1)
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port != except)
            {
                return port;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await Runtime.Stopping.CancelAsync();
        await _startup;
        // Features that must finish work while the API still answers (actors drain and deactivate) go first.
        foreach (var f in _features)
        {
            if (f is ISidecarDrain drain)
            {
                await drain.DrainAsync(CancellationToken.None);
            }
        }
        // Stop taking API calls, then stop deliveries and close components.
        using (var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _web.StopAsync(drain.Token);
        }
        foreach (var f in Enumerable.Reverse(_features))
        {
            await f.DisposeAsync();
        }
        await _web.DisposeAsync();
        await Runtime.Components.DisposeAsync();
        Runtime.AppChannel?.Dispose();
        if (Runtime.Tracer is { } tracer)
        {
            await tracer.DisposeAsync();
        }
    }
}

/// <summary>The features every sidecar runs, in the order they start.</summary>
internal static class SidecarFeatures
{
    public static List<ISidecarFeature> Create(SidecarRuntime runtime, SidecarEnvironment environment, int httpPort) =>
    [
        new CoreFeature(runtime),
        new StateFeature(new StateApi(runtime.Components, runtime.Options, runtime.Resiliency)),
        new Secrets.SecretsFeature(runtime.Components),
        new PubSubFeature(runtime),
        new InvocationFeature(runtime, environment.Registry, httpPort),
        new Actors.ActorsFeature(runtime, Actors.FileActorPlacement.IsFolderAddress(runtime.Options.PlacementHostAddress)
            ? new Actors.FileActorPlacement(runtime.Options.PlacementHostAddress!, environment.Time)
            : environment.Registry.ActorPlacement, httpPort),
    ];
}
