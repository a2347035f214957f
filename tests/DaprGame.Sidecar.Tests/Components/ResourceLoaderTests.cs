using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Hosting;
using DaprGame.Testing;

namespace DaprGame.Sidecar.Tests.Components;

/// <summary>Component YAML as users write it: what loads, what is refused, and how the refusal reads.</summary>
public sealed class ResourceLoaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-resources-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private SidecarOptions Options(string appId = "app", IReadOnlyDictionary<string, string>? env = null)
    {
        var o = new SidecarOptions { AppId = appId, WorkingDirectory = _folder, Environment = env ?? new Dictionary<string, string>() };
        o.ResourcesPaths.Add(_folder);
        return o;
    }

    private static SidecarOptions WithFreePorts(SidecarOptions o)
    {
        o.HttpPort = 0;
        o.GrpcPort = 0;
        return o;
    }

    private string Write(string name, string yaml)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void Malformed_yaml_names_the_file_and_the_line()
    {
        var path = Write("broken.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: x\nspec: [\n");

        var e = Assert.Throws<ResourceException>(() => ResourceLoader.Load(Options()));

        Assert.Equal(path, e.File);
        Assert.Contains("malformed YAML at line", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_component_without_a_type_is_refused_with_the_field_named()
    {
        Write("notype.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  version: v1\n");

        var e = Assert.Throws<ResourceException>(() => ResourceLoader.Load(Options()));

        Assert.Contains("'spec.type' is required", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_component_type_stops_start_up_naming_the_file()
    {
        var path = Write("odd.yaml", Yaml.Component("statestore", "state.cassandra-of-dreams"));

        var e = await Assert.ThrowsAsync<ResourceException>(() => SidecarHost.StartAsync(WithFreePorts(Options()), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(path, e.File);
        Assert.Contains("unknown component type 'state.cassandra-of-dreams'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kafka_is_refused_as_real_dapr_only()
    {
        Write("kafka.yaml", Yaml.Component("pubsub", "pubsub.kafka", new Dictionary<string, string> { ["brokers"] = "localhost:9092" }));

        var e = await Assert.ThrowsAsync<ResourceException>(() => SidecarHost.StartAsync(WithFreePorts(Options()), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("real Dapr only", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_resolve_through_the_local_env_and_file_secret_stores()
    {
        Write("secrets.json", """{ "redis": { "password": "from-file" } }""");
        Write("stores.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: envsecrets }
            spec: { type: secretstores.local.env, version: v1, metadata: [] }
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: filesecrets }
            spec:
              type: secretstores.local.file
              version: v1
              metadata:
              - { name: secretsFile, value: secrets.json }
            """);
        Write("state.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: statestore }
            spec:
              type: state.in-memory
              version: v1
              metadata:
              - name: fromEnv
                secretKeyRef: { name: DB_PASSWORD, key: DB_PASSWORD }
            auth: { secretStore: envsecrets }
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: other }
            spec:
              type: state.in-memory
              version: v1
              metadata:
              - name: fromFile
                secretKeyRef: { name: "redis:password" }
              - name: plain
                value: "{appID}-suffix"
            auth: { secretStore: filesecrets }
            """);

        var set = ResourceLoader.Load(Options(env: new Dictionary<string, string> { ["DB_PASSWORD"] = "from-env" }));

        Assert.Equal("from-env", set.Components.Single(c => c.Name == "statestore").Get("fromEnv"));
        var other = set.Components.Single(c => c.Name == "other");
        Assert.Equal("from-file", other.Get("fromFile"));
        Assert.Equal("app-suffix", other.Get("plain"));
    }

    [Fact]
    public void A_missing_secret_is_an_error_naming_the_store()
    {
        Write("stores.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: envsecrets }
            spec: { type: secretstores.local.env, version: v1, metadata: [] }
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: statestore }
            spec:
              type: state.in-memory
              version: v1
              metadata:
              - name: password
                secretKeyRef: { name: NOPE, key: NOPE }
            auth: { secretStore: envsecrets }
            """);

        var e = Assert.Throws<ResourceException>(() => ResourceLoader.Load(Options()));

        Assert.Contains("secret 'NOPE' not found in secret store 'envsecrets'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scopes_limit_a_component_to_the_named_app_ids()
    {
        Write("scoped.yaml", Yaml.Component("statestore", "state.in-memory") + "scopes:\n- chat\n");

        Assert.Single(ResourceLoader.Load(Options("chat")).Components);
        Assert.Empty(ResourceLoader.Load(Options("trading")).Components);
    }

    [Fact]
    public void Resiliency_policies_attach_to_their_targets_and_unknown_names_are_refused()
    {
        Write("resiliency.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata: { name: r }
            spec:
              policies:
                timeouts: { fast: 250ms }
                retries:
                  tries: { policy: exponential, initialInterval: 10ms, maxInterval: 1s, maxRetries: 4 }
                circuitBreakers:
                  cb: { maxRequests: 2, timeout: 30s, trip: consecutiveFailures > 3 }
              targets:
                apps:
                  chat: { timeout: fast, retry: tries, circuitBreaker: cb }
                components:
                  pubsub:
                    inbound: { retry: tries }
            """);

        var set = ResourceLoader.Load(Options());

        var chat = set.Resiliency.Apps["chat"];
        Assert.Equal(TimeSpan.FromMilliseconds(250), chat.Timeout);
        Assert.Equal(4, chat.Retry!.MaxRetries);
        Assert.True(chat.Retry.Exponential);
        Assert.Equal(TimeSpan.FromMilliseconds(15), chat.Retry.DelayFor(2));
        Assert.Equal(4, chat.CircuitBreaker!.ConsecutiveFailures);
        Assert.Same(chat.Retry, set.Resiliency.PubSubInbound("pubsub").Retry);
        Assert.Null(set.Resiliency.PubSubInbound("other").Retry);

        File.WriteAllText(Path.Combine(_folder, "resiliency.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata: { name: r }
            spec:
              policies: {}
              targets:
                apps:
                  chat: { retry: missing }
            """);
        var e = Assert.Throws<ResourceException>(() => ResourceLoader.Load(Options()));
        Assert.Contains("unknown retry policy 'missing'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_actor_state_stores_are_refused()
    {
        var actor = new Dictionary<string, string> { ["actorStateStore"] = "true" };
        Write("a.yaml", Yaml.Component("one", "state.in-memory", actor));
        Write("b.yaml", Yaml.Component("two", "state.in-memory", actor));

        var e = await Assert.ThrowsAsync<ResourceException>(() => SidecarHost.StartAsync(WithFreePorts(Options()), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("duplicate actor state store", e.Message, StringComparison.Ordinal);
    }
}
