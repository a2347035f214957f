using System.Text.Json;

namespace DaprGame.Sidecar.Components;

/// <summary>
/// Resolves <c>secretKeyRef</c> through the two local secret stores Dapr ships for development:
/// <c>secretstores.local.env</c> (environment variables) and <c>secretstores.local.file</c> (a JSON file).
/// </summary>
internal sealed class SecretResolver(IEnumerable<ComponentSpec> stores, Func<string, string?> env, string workingDirectory)
{
    private readonly Dictionary<string, ComponentSpec> _stores = stores.ToDictionary(s => s.Name, StringComparer.Ordinal);

    /// <summary>Returns the secret's key/value bag, or null when it does not exist.</summary>
    public IReadOnlyDictionary<string, string>? Resolve(string storeName, string secretName)
    {
        if (!_stores.TryGetValue(storeName, out var store))
        {
            throw new FormatException($"secret store '{storeName}' is not defined");
        }
        switch (store.Type)
        {
            case "secretstores.local.env":
                var prefix = store.Get("prefix") ?? "";
                return env(prefix + secretName) is { } value ? new Dictionary<string, string> { [secretName] = value } : null;
            case "secretstores.local.file":
                var path = store.Get("secretsFile") ?? throw new FormatException($"secret store '{storeName}' needs metadata 'secretsFile'");
                path = Path.IsPathRooted(path) ? path : Path.Combine(workingDirectory, path);
                var separator = store.Get("nestedSeparator") ?? ":";
                var flat = Flatten(JsonDocument.Parse(File.ReadAllText(path)).RootElement, "", separator);
                if (store.GetBool("multiValued"))
                {
                    var bag = flat.Where(kv => kv.Key.StartsWith(secretName + separator, StringComparison.Ordinal))
                        .ToDictionary(kv => kv.Key[(secretName.Length + separator.Length)..], kv => kv.Value);
                    return bag.Count > 0 ? bag : null;
                }
                return flat.TryGetValue(secretName, out var v) ? new Dictionary<string, string> { [secretName] = v } : null;
            default:
                throw new FormatException($"secret store type '{store.Type}' is not implemented by the local sidecar (use secretstores.local.env or secretstores.local.file)");
        }
    }

    public static string? Pick(IReadOnlyDictionary<string, string> bag, string key) =>
        bag.TryGetValue(key, out var v) ? v : bag.Count == 1 ? bag.Values.First() : null;

    private static Dictionary<string, string> Flatten(JsonElement e, string prefix, string separator)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in e.EnumerateObject())
            {
                var key = prefix.Length == 0 ? p.Name : prefix + separator + p.Name;
                foreach (var kv in Flatten(p.Value, key, separator))
                {
                    result[kv.Key] = kv.Value;
                }
            }
        }
        else
        {
            result[prefix] = e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
        }
        return result;
    }
}
