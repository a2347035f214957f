namespace DaprGame.Sidecar.Components;

/// <summary>A <c>kind: Component</c> resource with its metadata values resolved (secrets and env refs looked up).</summary>
public sealed record ComponentSpec(
    string Name,
    string Type,
    string Version,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Scopes,
    string SourceFile)
{
    /// <summary>
    /// For each metadata field given as a <c>secretKeyRef</c>, the secret's name (its value is in <see cref="Metadata"/>).
    /// daprd's state encryption writes that name after each value, so it must know where a key came from.
    /// </summary>
    public IReadOnlyDictionary<string, string> SecretRefs { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The building block: <c>state</c>, <c>pubsub</c>, <c>secretstores</c>, …</summary>
    public string Block => Type.Split('.', 2)[0];

    public string? Get(string key) =>
        Metadata.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    public bool GetBool(string key, bool fallback = false) =>
        Get(key) is { } v ? v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1" : fallback;

    public TimeSpan? GetDuration(string key) => Get(key) is { Length: > 0 } v ? DurationParser.Parse(v) : null;
}

/// <summary>A declarative <c>kind: Subscription</c> (v1alpha1 or v2alpha1).</summary>
public sealed record SubscriptionSpec(
    string Name,
    string PubSubName,
    string Topic,
    string? DefaultRoute,
    IReadOnlyList<RouteRule> Rules,
    string? DeadLetterTopic,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Scopes,
    string SourceFile);

/// <summary>One routing rule: a CEL-like <paramref name="Match"/> expression and the app path it sends to.</summary>
public sealed record RouteRule(string Match, string Path);
