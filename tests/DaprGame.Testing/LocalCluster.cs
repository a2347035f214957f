using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.PubSub;
using Microsoft.AspNetCore.Builder;

namespace DaprGame.Testing;

/// <summary>The component profiles a cluster can run on: the folders of <c>components/</c> the local sidecar supports.</summary>
public enum ClusterProfile
{
    /// <summary><c>components/local</c>: SQLite state, in-memory pub/sub shared by the cluster's sidecars.</summary>
    Local,

    /// <summary><c>components/redis</c>: Redis state and Redis Streams pub/sub (needs a Redis host).</summary>
    Redis,

    /// <summary><c>components/postgres</c>: PostgreSQL state and Redis Streams pub/sub (needs a PostgreSQL connection string and a Redis host).</summary>
    Postgres,
}

/// <summary>One app of a cluster: how to build it, how many replicas, and configuration for every replica.</summary>
public sealed record ClusterApp(string AppId, ServiceBuilder Build, int Replicas = 1, Action<WebApplicationBuilder>? Configure = null);

/// <summary>
/// Several services, each replica with its own local sidecar, started in-process from the repository's real component
/// profile (<c>components/&lt;profile&gt;/*.yaml</c>, with only the SQLite file path or the Redis address rewritten):
/// what <c>daprgame-sidecar run -f dapr.yaml</c> starts, but inside one test or benchmark process. The cluster has its
/// own app registry (invocation, actor placement) and its own in-memory broker, so clusters never see each other.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly Dictionary<string, List<ServiceNode>> _nodes = new(StringComparer.Ordinal);
    private readonly string _folder;

    private LocalCluster(string folder, IReadOnlyDictionary<string, string> resources, SidecarEnvironment environment)
    {
        _folder = folder;
        Resources = resources;
        Environment = environment;
    }

    /// <summary>The component files every sidecar of the cluster loads (name → YAML).</summary>
    public IReadOnlyDictionary<string, string> Resources { get; }

    public SidecarEnvironment Environment { get; }

    public IReadOnlyList<ServiceNode> Nodes(string appId) => _nodes.TryGetValue(appId, out var list) ? list : [];

    public ServiceNode Node(string appId, int replica = 0) => Nodes(appId)[replica];

    public static async Task<LocalCluster> StartAsync(ClusterProfile profile, IReadOnlyList<ClusterApp> apps, string? redisHost = null, string? postgresConnectionString = null)
    {
        var folder = Directory.CreateTempSubdirectory("daprgame-cluster-").FullName;
        var resources = ProfileResources(profile, folder, redisHost, postgresConnectionString);
        var environment = new SidecarEnvironment { Registry = new InProcessAppRegistry(), InMemoryBroker = new InMemoryBroker() };
        var cluster = new LocalCluster(folder, resources, environment);
        try
        {
            foreach (var app in apps)
            {
                var list = new List<ServiceNode>();
                cluster._nodes[app.AppId] = list;
                for (var i = 0; i < app.Replicas; i++)
                {
                    list.Add(await ServiceNode.StartAsync(app.AppId, app.Build, resources, environment, app.Configure));
                }
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>A fixed hex AES key the test clusters' Redis profile encrypts state with (<see cref="ProfileResources"/>).</summary>
    public const string TestStateKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    /// <summary>
    /// The YAML files of <c>components/&lt;profile&gt;</c>, pointed at this run's SQLite file, Redis or PostgreSQL. The secret
    /// store's file path becomes absolute (sidecars here run in a temporary folder, not the app's folder); the Redis
    /// and PostgreSQL profiles' <c>secretstores.local.env</c> becomes a file in <paramref name="dataFolder"/> holding
    /// <see cref="TestStateKey"/> as <c>DAPRGAME_STATE_KEY</c>, so tests need not set process-wide variables.
    /// </summary>
    public static Dictionary<string, string> ProfileResources(ClusterProfile profile, string dataFolder, string? redisHost, string? postgresConnectionString = null)
    {
        var dir = Path.Combine(RepositoryRoot(), "components", profile.ToString().ToLowerInvariant());
        var resources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(dir, "*.yaml"))
        {
            var yaml = File.ReadAllText(file);
            yaml = profile switch
            {
                ClusterProfile.Local => yaml
                    .Replace("./.data/state.db", Path.Combine(dataFolder, "state.db"), StringComparison.Ordinal)
                    .Replace("../../../components/local/secrets.json", Path.Combine(dir, "secrets.json"), StringComparison.Ordinal),
                ClusterProfile.Redis => yaml.Replace("localhost:6379", redisHost ?? throw new ArgumentNullException(nameof(redisHost), "the redis profile needs a Redis host"), StringComparison.Ordinal),
                ClusterProfile.Postgres => yaml
                    .Replace("localhost:6379", redisHost ?? throw new ArgumentNullException(nameof(redisHost), "the postgres profile's pub/sub needs a Redis host"), StringComparison.Ordinal)
                    .Replace("host=localhost port=5432 user=postgres password=postgres database=daprgame",
                        postgresConnectionString ?? throw new ArgumentNullException(nameof(postgresConnectionString), "the postgres profile needs a connection string"), StringComparison.Ordinal),
                _ => yaml,
            };
            resources[Path.GetFileName(file)] = yaml;
        }
        if (profile is ClusterProfile.Redis or ClusterProfile.Postgres)
        {
            var secrets = Path.Combine(dataFolder, "secrets.json");
            File.WriteAllText(secrets, $$"""{ "DAPRGAME_STATE_KEY": "{{TestStateKey}}", "persistence-backup-key": "{{TestStateKey}}" }""");
            resources["secretstore.yaml"] = resources["secretstore.yaml"]
                .Replace("secretstores.local.env", "secretstores.local.file", StringComparison.Ordinal)
                .Replace("metadata: []", $"metadata:\n    - name: secretsFile\n      value: \"{secrets}\"", StringComparison.Ordinal);
        }
        return resources;
    }

    /// <summary>The folder holding <c>dapr.yaml</c> and <c>DaprGame.sln</c>, found above the running assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "dapr.yaml")) && File.Exists(Path.Combine(dir.FullName, "DaprGame.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no dapr.yaml + DaprGame.sln above {AppContext.BaseDirectory}");
    }

    public async ValueTask DisposeAsync()
    {
        // Gateways first: they hold clients' sockets and call the others.
        foreach (var list in _nodes.Values.Reverse())
        {
            foreach (var node in list)
            {
                await node.DisposeAsync();
            }
        }
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
