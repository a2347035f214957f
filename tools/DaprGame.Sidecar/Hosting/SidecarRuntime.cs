using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Resiliency;
using DaprGame.Sidecar.Tracing;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Hosting;

/// <summary>A subscription the sidecar delivers, as reported by the metadata API.</summary>
public sealed record ActiveSubscription(string PubSubName, string Topic, string? DeadLetterTopic, IReadOnlyList<RouteRule> Rules, string? DefaultRoute, IReadOnlyDictionary<string, string> Metadata, string Type);

/// <summary>The live state of one sidecar that its APIs share: configuration, components, the app channel and readiness.</summary>
public sealed class SidecarRuntime(SidecarOptions options, ResourceSet resources, ComponentRegistry components, TimeProvider time, ILoggerFactory logging)
{
    private readonly TaskCompletionSource _appReady = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SidecarOptions Options { get; } = options;

    public ResourceSet Resources { get; } = resources;

    public ComponentRegistry Components { get; } = components;

    public TimeProvider Time { get; } = time;

    public ILoggerFactory Logging { get; } = logging;

    /// <summary>Live resiliency policies and circuit breakers, one executor per target (apps, actors, components).</summary>
    public ResiliencyPolicies Resiliency { get; } = new(resources.Resiliency, time, logging.CreateLogger("DaprGame.Sidecar.Resiliency"));

    /// <summary>The sidecar's span recorder; null when tracing records nothing (rate "0" or no exporter configured).</summary>
    public SidecarTracer? Tracer { get; } = SidecarTracer.Create(resources.Configuration, options.AppId, logging.CreateLogger("DaprGame.Sidecar.Tracing"));

    /// <summary>Null when the sidecar has no app port.</summary>
    public AppChannel? AppChannel { get; set; }

    /// <summary>Subscriptions being delivered; filled once the app's <c>/dapr/subscribe</c> has been read.</summary>
    public List<ActiveSubscription> Subscriptions { get; } = [];

    /// <summary>Active actors per hosted type, set by the actors feature once the app registered actor types; null while the actor runtime is off.</summary>
    public Func<IReadOnlyList<KeyValuePair<string, int>>>? ActiveActors { get; set; }

    /// <summary>Cancelled when the sidecar is asked to shut down (Shutdown API or host stop).</summary>
    public CancellationTokenSource Stopping { get; } = new();

    /// <summary>True once the app channel is up and subscriptions are running: <c>/v1.0/healthz</c> answers 204.</summary>
    public bool IsReady => _appReady.Task.IsCompletedSuccessfully;

    public Task AppReady => _appReady.Task;

    internal void MarkReady() => _appReady.TrySetResult();

    internal void MarkFailed(Exception error) => _appReady.TrySetException(error);
}
