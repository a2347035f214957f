using DaprGame.Sidecar.PubSub;
using DaprGame.Sidecar.State;
using DaprGame.Sidecar.State.Encryption;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Components;

/// <summary>A loaded state store with the settings daprd applies around it (key prefix, actor store flag).</summary>
public sealed record StateStoreHandle(ComponentSpec Spec, IStateStore Store)
{
    public bool IsActorStateStore => Spec.GetBool("actorStateStore");

    /// <summary>
    /// The store as the state API sees it: <see cref="Store"/> wrapped in <see cref="EncryptedStateStore"/> when the
    /// component sets <c>primaryEncryptionKey</c>. Actors use <see cref="Store"/> itself: daprd never encrypts actor state.
    /// </summary>
    public IStateStore ApiStore { get => field ?? Store; init; }

    /// <summary>daprd's key prefix rule (<c>keyPrefix</c> metadata: appid, name, namespace, none or a literal).</summary>
    public string PrefixFor(string appId, Func<string, string?> env)
    {
        var mode = Spec.Get("keyPrefix") ?? "appid";
        return mode.ToLowerInvariant() switch
        {
            "appid" => appId.Length == 0 ? "" : appId + "||",
            "name" => Spec.Name + "||",
            "namespace" => env("NAMESPACE") is { Length: > 0 } ns ? $"{ns}.{appId}||" : appId + "||",
            "none" => "",
            _ => mode + "||",
        };
    }
}

/// <summary>A loaded pub/sub component.</summary>
public sealed record PubSubHandle(ComponentSpec Spec, IPubSub PubSub);

/// <summary>Everything a component factory may need: the sidecar's options, time and logging.</summary>
public sealed record ComponentContext(SidecarOptions Options, TimeProvider Time, ILoggerFactory Logging)
{
    /// <summary>The broker <c>pubsub.in-memory</c> components use when sidecars share one (see <see cref="Hosting.SidecarEnvironment.InMemoryBroker"/>).</summary>
    public PubSub.InMemoryBroker? SharedInMemoryBroker { get; init; }
}

/// <summary>
/// The components one sidecar loaded, created by type from their YAML. An unknown type stops start-up with a message
/// naming the file; types real Dapr has but the local sidecar does not implement are refused by name.
/// </summary>
public sealed class ComponentRegistry : IAsyncDisposable
{
    private readonly Dictionary<string, StateStoreHandle> _stateStores = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PubSubHandle> _pubSubs = new(StringComparer.Ordinal);
    private readonly List<ComponentSpec> _all = [];

    public IReadOnlyDictionary<string, StateStoreHandle> StateStores => _stateStores;

    public IReadOnlyDictionary<string, PubSubHandle> PubSubs => _pubSubs;

    public IReadOnlyList<ComponentSpec> All => _all;

    public StateStoreHandle? ActorStateStore => _stateStores.Values.FirstOrDefault(s => s.IsActorStateStore);

    /// <summary>The secret stores loaded (<c>secretstores.*</c> components), read by the secrets API.</summary>
    internal SecretResolver Secrets { get; private set; } = new([], _ => null, "");

    /// <summary>Names of the loaded secret stores, in load order.</summary>
    public IReadOnlyList<string> SecretStoreNames => [.. _all.Where(c => c.Block == "secretstores").Select(c => c.Name)];

    public static async Task<ComponentRegistry> CreateAsync(ResourceSet resources, ComponentContext context, CancellationToken cancellationToken)
    {
        var registry = new ComponentRegistry();
        registry.Secrets = new SecretResolver(resources.Components.Where(c => c.Block == "secretstores"), context.Options.GetEnvironmentVariable,
            context.Options.WorkingDirectory, context.Options.EnumerateEnvironment);
        try
        {
            foreach (var spec in resources.Components)
            {
                await registry.AddAsync(spec, context, cancellationToken);
            }
            var actorStores = registry._stateStores.Values.Where(s => s.IsActorStateStore).ToList();
            if (actorStores.Count > 1)
            {
                throw new ResourceException(actorStores[1].Spec.SourceFile, "detected duplicate actor state store: only one state store may set actorStateStore: \"true\"");
            }
            return registry;
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
    }

    /// <summary>A registry holding exactly <paramref name="stores"/>: lets tests put a store with injected faults behind the state API.</summary>
    internal static ComponentRegistry ForStateStores(params StateStoreHandle[] stores)
    {
        var registry = new ComponentRegistry();
        foreach (var s in stores)
        {
            registry._stateStores[s.Spec.Name] = s;
            registry._all.Add(s.Spec);
        }
        return registry;
    }

    private async Task AddAsync(ComponentSpec spec, ComponentContext context, CancellationToken cancellationToken)
    {
        _all.Add(spec);
        switch (spec.Block)
        {
            case "secretstores":
                // components-contrib's file store reads its file at Init: a wrong path stops start-up, not the first read.
                if (spec.Type == "secretstores.local.file")
                {
                    try
                    {
                        Secrets.GetAll(spec.Name);
                    }
                    catch (Exception e) when (e is FormatException or IOException or System.Text.Json.JsonException)
                    {
                        throw new ResourceException(spec.SourceFile, $"component '{spec.Name}' ({spec.Type}) failed to initialise: {e.Message.ReplaceLineEndings(" ")}");
                    }
                }
                return;
            case "state":
                var encryption = Encryption(spec);
                var store = ComponentFactory.CreateStateStore(spec, context);
                await InitAsync(spec, () => store.InitAsync(cancellationToken));
                _stateStores[spec.Name] = new StateStoreHandle(spec, store)
                {
                    ApiStore = encryption is null ? store : new EncryptedStateStore(store, encryption),
                };
                return;
            case "pubsub":
                var pubsub = ComponentFactory.CreatePubSub(spec, context);
                await InitAsync(spec, () => pubsub.InitAsync(cancellationToken));
                _pubSubs[spec.Name] = new PubSubHandle(spec, pubsub);
                return;
            default:
                throw new ResourceException(spec.SourceFile, $"component type '{spec.Type}' is not implemented by the local sidecar");
        }
    }

    /// <summary>The component's encryption keys, refused at load (as daprd fails the component) when unusable.</summary>
    private static StateEncryption? Encryption(ComponentSpec spec)
    {
        try
        {
            return StateEncryption.FromSpec(spec);
        }
        catch (FormatException e)
        {
            throw new ResourceException(spec.SourceFile, $"component '{spec.Name}' ({spec.Type}): {e.Message}");
        }
    }

    private static async Task InitAsync(ComponentSpec spec, Func<Task> init)
    {
        try
        {
            await init();
        }
        catch (Exception e) when (e is not ResourceException and not OperationCanceledException)
        {
            throw new ResourceException(spec.SourceFile, $"component '{spec.Name}' ({spec.Type}) failed to initialise: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _pubSubs.Values)
        {
            await p.PubSub.DisposeAsync();
        }
        foreach (var s in _stateStores.Values)
        {
            await s.Store.DisposeAsync();
        }
        _pubSubs.Clear();
        _stateStores.Clear();
    }
}
