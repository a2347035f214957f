using System.Text.Json;

namespace DaprGame.Sidecar.Actors;

/// <summary>How one actor type behaves on this host, from the app's <c>/dapr/config</c> (a per-type entry overrides the top level).</summary>
public sealed record ActorTypeSettings(string Type, TimeSpan IdleTimeout, bool Reentrancy, int MaxStackDepth);

/// <summary>
/// The actor part of the app's <c>GET /dapr/config</c> answer (shared/dapr-contract.md §2.3). Durations are Go
/// durations; defaults follow daprd: 60 min idle timeout, reentrancy off with depth 32, rebalanced actors drained.
/// </summary>
public sealed class ActorAppConfig
{
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(60);
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(60);
    public const int DefaultMaxStackDepth = 32;

    public static ActorAppConfig Empty { get; } = new();

    public Dictionary<string, ActorTypeSettings> Types { get; } = new(StringComparer.Ordinal);

    public TimeSpan DrainOngoingCallTimeout { get; private set; } = DefaultDrainTimeout;

    public bool DrainRebalancedActors { get; private set; } = true;

    /// <summary>Parses the JSON body; throws <see cref="FormatException"/> naming the field that is wrong.</summary>
    public static ActorAppConfig Parse(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        var root = doc.RootElement;
        var config = new ActorAppConfig();
        if (root.ValueKind != JsonValueKind.Object)
        {
            return config;
        }
        var idle = Duration(root, "actorIdleTimeout") ?? DefaultIdleTimeout;
        var (reentrant, depth) = Reentrancy(root, false, DefaultMaxStackDepth);
        config.DrainOngoingCallTimeout = Duration(root, "drainOngoingCallTimeout") ?? DefaultDrainTimeout;
        if (root.TryGetProperty("drainRebalancedActors", out var drain) && drain.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            config.DrainRebalancedActors = drain.GetBoolean();
        }
        foreach (var type in Strings(root, "entities"))
        {
            config.Types[type] = new ActorTypeSettings(type, idle, reentrant, depth);
        }
        if (root.TryGetProperty("entitiesConfig", out var entries) && entries.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in entries.EnumerateArray())
            {
                var entryIdle = Duration(entry, "actorIdleTimeout") ?? idle;
                var (entryReentrant, entryDepth) = Reentrancy(entry, reentrant, depth);
                foreach (var type in Strings(entry, "entities"))
                {
                    config.Types[type] = new ActorTypeSettings(type, entryIdle, entryReentrant, entryDepth);
                }
            }
        }
        return config;
    }

    private static IEnumerable<string> Strings(JsonElement element, string name)
    {
        if (element.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } s)
                {
                    yield return s;
                }
            }
        }
    }

    private static TimeSpan? Duration(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
        {
            return null;
        }
        return ActorSchedule.TryParseGoDuration(text, out var d)
            ? d
            : throw new FormatException($"/dapr/config: {name} '{text}' is not a Go duration");
    }

    private static (bool Enabled, int Depth) Reentrancy(JsonElement element, bool enabled, int depth)
    {
        if (element.TryGetProperty("reentrancy", out var r) && r.ValueKind == JsonValueKind.Object)
        {
            if (r.TryGetProperty("enabled", out var e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                enabled = e.GetBoolean();
            }
            if (r.TryGetProperty("maxStackDepth", out var d) && d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var n) && n > 0)
            {
                depth = n;
            }
        }
        return (enabled, depth);
    }
}
