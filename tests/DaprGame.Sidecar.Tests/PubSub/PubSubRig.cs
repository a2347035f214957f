using DaprGame.Testing;
using DaprGame.Testing.Servers;

namespace DaprGame.Sidecar.Tests.PubSub;

/// <summary>An app and its sidecar, started in that order (the sidecar reads the app's subscriptions) and stopped in reverse.</summary>
public sealed class PubSubRig : IAsyncDisposable
{
    public const string PubSubName = "pubsub";
    private bool _disposed;

    private PubSubRig(SubscriberApp app, TestSidecar sidecar)
    {
        App = app;
        Sidecar = sidecar;
    }

    public SubscriberApp App { get; }

    public TestSidecar Sidecar { get; }

    public static async Task<PubSubRig> StartAsync(string appId, Dictionary<string, string> resources, Action<SubscriberApp> subscriptions, string? instanceId = null,
        DaprGame.Sidecar.Hosting.SidecarEnvironment? environment = null)
    {
        var app = await SubscriberApp.StartAsync(subscriptions);
        TestSidecar sidecar;
        try
        {
            sidecar = await TestSidecar.StartAsync(appId, resources, o =>
            {
                o.AppPort = app.Port;
                if (instanceId is not null)
                {
                    o.InstanceId = instanceId;
                }
            }, environment);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var rig = new PubSubRig(app, sidecar);
        try
        {
            await sidecar.Host.Ready.WaitAsync(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            await rig.DisposeAsync();
            throw new TimeoutException($"stalled: the sidecar for {appId} did not become ready (app channel + subscriptions) within 15s");
        }
        return rig;
    }

    /// <summary>Stops only the sidecar (the app keeps running), as when daprd dies under a live app.</summary>
    public ValueTask StopSidecarAsync()
    {
        _disposed = true;
        return Sidecar.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            await Sidecar.DisposeAsync();
        }
        await App.DisposeAsync();
    }

    /// <summary>The pub/sub component named <see cref="PubSubName"/> for <paramref name="broker"/> (<c>in-memory</c> or <c>redis</c>).</summary>
    public static Dictionary<string, string> Resources(string broker, RedisServer redis, Dictionary<string, string>? redisMetadata = null, string? resiliency = null)
    {
        var resources = new Dictionary<string, string>();
        if (broker == "redis")
        {
            var metadata = new Dictionary<string, string> { ["redisHost"] = redis.Host };
            foreach (var (k, v) in redisMetadata ?? [])
            {
                metadata[k] = v;
            }
            resources["pubsub.yaml"] = Yaml.Component(PubSubName, "pubsub.redis", metadata);
        }
        else
        {
            resources["pubsub.yaml"] = Yaml.Component(PubSubName, "pubsub.in-memory");
        }
        if (resiliency is not null)
        {
            resources["resiliency.yaml"] = resiliency;
        }
        return resources;
    }

    /// <summary>A constant retry policy for the pubsub's inbound deliveries: <paramref name="maxRetries"/> retries 10 ms apart.</summary>
    public static string InboundRetries(int maxRetries) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Resiliency
        metadata:
          name: pubsub-resiliency
        spec:
          policies:
            retries:
              fast:
                policy: constant
                duration: 10ms
                maxRetries: {maxRetries}
          targets:
            components:
              {PubSubName}:
                inbound:
                  retry: fast
        """;
}
