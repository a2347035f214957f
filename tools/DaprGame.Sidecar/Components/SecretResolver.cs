using System.Text.Json;

namespace DaprGame.Sidecar.Components;

/// <summary>A secret store answered with an error (daprd wraps it as <c>ERR_SECRET_GET</c>).</summary>
internal sealed class SecretStoreException(string message) : Exception(message);

/// <summary>
/// The two local secret stores Dapr ships for development, <c>secretstores.local.env</c> (environment variables) and
/// <c>secretstores.local.file</c> (a JSON file), with components-contrib's answers: the file store fails on a missing
/// secret ("secret X not found"); the env store never fails and answers an unset variable (or a forbidden one,
/// <c>DAPR_*</c> and <c>APP_API_TOKEN</c>) with an empty value.
/// </summary>
internal sealed class SecretResolver(
    IEnumerable<ComponentSpec> stores,
    Func<string, string?> env,
    string workingDirectory,
    Func<IEnumerable<KeyValuePair<string, string>>>? environment = null)
{
    private readonly Dictionary<string, ComponentSpec> _stores = stores.ToDictionary(s => s.Name, StringComparer.Ordinal);

    public bool Contains(string storeName) => _stores.ContainsKey(storeName);

    /// <summary>
    /// For <c>secretKeyRef</c> in component metadata: the secret's key/value bag, or null when it does not exist
    /// (an unset variable counts as missing here, so a component never starts with an empty credential or key).
    /// </summary>
    public IReadOnlyDictionary<string, string>? Resolve(string storeName, string secretName)
    {
        var store = Store(storeName);
        switch (store.Type)
        {
            case "secretstores.local.env":
                return env(Prefix(store) + secretName) is { } value ? new Dictionary<string, string> { [secretName] = value } : null;
            case "secretstores.local.file":
                return FileSecret(store, secretName);
            default:
                throw Unsupported(store);
        }
    }

    /// <summary>The secrets API's GetSecret: the store's own answer. Throws <see cref="SecretStoreException"/> as the store would fail.</summary>
    public IReadOnlyDictionary<string, string> Get(string storeName, string secretName)
    {
        var store = Store(storeName);
        switch (store.Type)
        {
            case "secretstores.local.env":
                var name = Prefix(store) + secretName;
                var value = IsEnvAllowed(name) ? env(name) ?? "" : "";
                return new Dictionary<string, string>(StringComparer.Ordinal) { [secretName] = value };
            case "secretstores.local.file":
                return FileSecret(store, secretName) ?? throw new SecretStoreException($"secret {secretName} not found");
            default:
                throw Unsupported(store);
        }
    }

    /// <summary>The secrets API's BulkGetSecret: every secret of the store, each as its key/value bag.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> GetAll(string storeName)
    {
        var store = Store(storeName);
        var result = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        switch (store.Type)
        {
            case "secretstores.local.env":
                var prefix = Prefix(store);
                foreach (var (key, value) in environment?.Invoke() ?? [])
                {
                    if ((prefix.Length > 0 && (key.Length <= prefix.Length || !key.StartsWith(prefix, StringComparison.Ordinal))) || !IsEnvAllowed(key))
                    {
                        continue;
                    }
                    var name = key[prefix.Length..];
                    result[name] = new Dictionary<string, string>(StringComparer.Ordinal) { [name] = value };
                }
                return result;
            case "secretstores.local.file":
                var separator = Separator(store);
                var flat = ReadFile(store);
                if (store.GetBool("multiValued"))
                {
                    foreach (var top in flat.Keys.Select(k => k.Split(separator, 2)[0]).Distinct(StringComparer.Ordinal))
                    {
                        result[top] = FileSecret(store, top)!;
                    }
                    return result;
                }
                foreach (var (key, value) in flat)
                {
                    result[key] = new Dictionary<string, string>(StringComparer.Ordinal) { [key] = value };
                }
                return result;
            default:
                throw Unsupported(store);
        }
    }

    public static string? Pick(IReadOnlyDictionary<string, string> bag, string key) =>
        bag.TryGetValue(key, out var v) ? v : bag.Count == 1 ? bag.Values.First() : null;

    private ComponentSpec Store(string storeName) =>
        _stores.TryGetValue(storeName, out var store) ? store : throw new FormatException($"secret store '{storeName}' is not defined");

    private static string Prefix(ComponentSpec store) => store.Get("prefix") ?? "";

    private static string Separator(ComponentSpec store) => store.Get("nestedSeparator") is { Length: > 0 } s ? s : ":";

    // components-contrib's env store refuses the sidecar's own settings (DAPR_*, APP_API_TOKEN) to the app.
    private static bool IsEnvAllowed(string name) =>
        !name.Equals("APP_API_TOKEN", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("DAPR_", StringComparison.OrdinalIgnoreCase);

    private Dictionary<string, string>? FileSecret(ComponentSpec store, string secretName)
    {
        var separator = Separator(store);
        var flat = ReadFile(store);
        if (store.GetBool("multiValued"))
        {
            if (flat.TryGetValue(secretName, out var single))
            {
                return new Dictionary<string, string>(StringComparer.Ordinal) { [secretName] = single };
            }
            var bag = flat.Where(kv => kv.Key.StartsWith(secretName + separator, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[(secretName.Length + separator.Length)..], kv => kv.Value, StringComparer.Ordinal);
            return bag.Count > 0 ? bag : null;
        }
        return flat.TryGetValue(secretName, out var v) ? new Dictionary<string, string>(StringComparer.Ordinal) { [secretName] = v } : null;
    }

    private Dictionary<string, string> ReadFile(ComponentSpec store)
    {
        var path = store.Get("secretsFile") is { Length: > 0 } p ? p : throw new FormatException($"secret store '{store.Name}' needs metadata 'secretsFile'");
        path = Path.IsPathRooted(path) ? path : Path.Combine(workingDirectory, path);
        if (!File.Exists(path))
        {
            throw new FormatException($"secret store '{store.Name}': secrets file '{path}' does not exist");
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return Flatten(doc.RootElement, "", Separator(store));
    }

    private static FormatException Unsupported(ComponentSpec store) =>
        new($"secret store type '{store.Type}' is not implemented by the local sidecar (use secretstores.local.env or secretstores.local.file)");

    private static Dictionary<string, string> Flatten(JsonElement e, string prefix, string separator)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            var children = e.ValueKind == JsonValueKind.Object
                ? e.EnumerateObject().Select(p => (p.Name, p.Value))
                : e.EnumerateArray().Select((v, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), v));
            foreach (var (name, value) in children)
            {
                var key = prefix.Length == 0 ? name : prefix + separator + name;
                foreach (var kv in Flatten(value, key, separator))
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
