namespace DaprGame.Sidecar;

/// <summary>
/// How one sidecar instance is configured. The names follow daprd's flags (<c>--app-id</c>, <c>--app-port</c>, …)
/// and the environment variables daprd reads (<c>DAPR_API_TOKEN</c>, <c>APP_API_TOKEN</c>).
/// </summary>
public sealed class SidecarOptions
{
    /// <summary>The app-id (<c>--app-id</c>). Required.</summary>
    public string AppId { get; set; } = "";

    /// <summary>The app's port (<c>--app-port</c>); null when the app listens on nothing (publish-only clients).</summary>
    public int? AppPort { get; set; }

    /// <summary>Where the app listens (<c>--app-channel-address</c>), default the loopback name daprd uses.</summary>
    public string AppChannelAddress { get; set; } = "127.0.0.1";

    /// <summary>Only <c>http</c> is implemented; anything else is refused at start-up.</summary>
    public string AppProtocol { get; set; } = "http";

    /// <summary>The Dapr HTTP API port (<c>--dapr-http-port</c>); 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 3500;

    /// <summary>The Dapr gRPC API port (<c>--dapr-grpc-port</c>); 0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 50001;

    /// <summary>Folders holding component, subscription, resiliency and configuration YAML (<c>--resources-path</c>, repeatable).</summary>
    public List<string> ResourcesPaths { get; } = [];

    /// <summary>A <c>kind: Configuration</c> file (<c>--config</c>).</summary>
    public string? ConfigPath { get; set; }

    /// <summary><c>--log-level</c>: debug, info, warn, error.</summary>
    public string LogLevel { get; set; } = "info";

    /// <summary>When set, every API call but the health checks must carry <c>dapr-api-token</c> with this value.</summary>
    public string? ApiToken { get; set; }

    /// <summary>When set, sent as <c>dapr-api-token</c> on every call to the app.</summary>
    public string? AppApiToken { get; set; }

    /// <summary>A unique id for this sidecar instance: the consumer id of a replica and its name in the registry.</summary>
    public string InstanceId { get; set; } = Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// daprd's <c>--placement-host-address</c>. The local sidecar has no placement service: when this names a folder,
    /// separately started sidecars share the actor placement table there (<see cref="Actors.FileActorPlacement"/>);
    /// when unset or in daprd's <c>host:port</c> form, placement is the registry's (in-process for one run, the
    /// registry folder's <c>placement</c> subfolder for the file registry).
    /// </summary>
    public string? PlacementHostAddress { get; set; }

    /// <summary>Base directory that relative paths in component metadata are resolved against.</summary>
    public string WorkingDirectory { get; set; } = System.Environment.CurrentDirectory;

    /// <summary>Health probing of the app (<c>--enable-app-health-check</c>); off by default as in daprd.</summary>
    public bool EnableAppHealthCheck { get; set; }

    public string AppHealthCheckPath { get; set; } = "/healthz";

    public TimeSpan AppHealthProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Environment to resolve <c>envRef</c> and secret-store lookups from; defaults to the process environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; set; }

    /// <summary>Every variable of <see cref="Environment"/> (or the process), for a bulk read of <c>secretstores.local.env</c>.</summary>
    internal IEnumerable<KeyValuePair<string, string>> EnumerateEnvironment() =>
        Environment ?? System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string>((string)e.Key, e.Value as string ?? ""));

    internal string? GetEnvironmentVariable(string name) =>
        Environment is { } env ? env.GetValueOrDefault(name) : System.Environment.GetEnvironmentVariable(name);
}
