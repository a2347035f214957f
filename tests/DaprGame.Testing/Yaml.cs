namespace DaprGame.Testing;

/// <summary>Component YAML for tests, written the way users write it in <c>components/</c>.</summary>
public static class Yaml
{
    public static string Component(string name, string type, IReadOnlyDictionary<string, string>? metadata = null, string version = "v1")
    {
        var lines = new List<string>
        {
            "apiVersion: dapr.io/v1alpha1",
            "kind: Component",
            "metadata:",
            $"  name: {name}",
            "spec:",
            $"  type: {type}",
            $"  version: {version}",
            "  metadata:",
        };
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
        {
            lines.Add($"  - name: {k}");
            lines.Add($"    value: \"{v.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        }
        if (metadata is null || metadata.Count == 0)
        {
            lines[^1] = "  metadata: []";
        }
        return string.Join('\n', lines) + "\n";
    }
}
