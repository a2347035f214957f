using DaprGame.Sidecar.PubSub;
using DaprGame.Sidecar.State;

namespace DaprGame.Sidecar.Components;

/// <summary>The one table of component types the local sidecar implements, and the ones it refuses by name.</summary>
internal static class ComponentFactory
{
    private static readonly Dictionary<string, Func<ComponentSpec, ComponentContext, IStateStore>> StateTypes = new(StringComparer.Ordinal)
    {
        ["state.in-memory"] = (_, ctx) => new InMemoryStateStore(ctx.Time),
        ["state.sqlite"] = (spec, ctx) => new SqliteStateStore(spec, ctx),
        ["state.redis"] = (spec, ctx) => new RedisStateStore(spec, ctx),
        ["state.postgresql"] = (spec, ctx) => new PostgresStateStore(spec, ctx),
    };

    private static readonly Dictionary<string, Func<ComponentSpec, ComponentContext, IPubSub>> PubSubTypes = new(StringComparer.Ordinal)
    {
        ["pubsub.in-memory"] = (spec, ctx) => new InMemoryPubSub(spec, ctx),
        ["pubsub.redis"] = (spec, ctx) => new RedisStreamsPubSub(spec, ctx),
    };

    /// <summary>Types that real Dapr runs and that our profiles name, but that the local sidecar does not implement.</summary>
    private static readonly Dictionary<string, string> RealDaprOnly = new(StringComparer.Ordinal)
    {
        ["pubsub.kafka"] = "pubsub.kafka runs on real Dapr only (dapr run -f dapr.yaml with the kafka profile); the local sidecar does not implement it",
    };

    public static IStateStore CreateStateStore(ComponentSpec spec, ComponentContext context) =>
        StateTypes.TryGetValue(spec.Type, out var create) ? Construct(spec, () => create(spec, context)) : throw Unknown(spec);

    public static IPubSub CreatePubSub(ComponentSpec spec, ComponentContext context) =>
        PubSubTypes.TryGetValue(spec.Type, out var create) ? create(spec, context) : throw Unknown(spec);

    /// <summary>
    /// Store constructors validate their metadata (a bad table name, a refused setting); report that as the same
    /// one-line start-up error, naming the file, that an initialisation failure gets.
    /// </summary>
    private static T Construct<T>(ComponentSpec spec, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is not ResourceException and not OperationCanceledException)
        {
            throw new ResourceException(spec.SourceFile, $"component '{spec.Name}' ({spec.Type}) has invalid metadata: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private static ResourceException Unknown(ComponentSpec spec) =>
        new(spec.SourceFile, RealDaprOnly.TryGetValue(spec.Type, out var why)
            ? why
            : $"unknown component type '{spec.Type}' (the local sidecar implements {string.Join(", ", StateTypes.Keys.Concat(PubSubTypes.Keys).Order())})");
}
