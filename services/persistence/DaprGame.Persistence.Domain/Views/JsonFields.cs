using System.Text.Json;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>
/// Reads the fields a view needs from event data. A missing or mistyped field throws <see cref="FormatException"/>,
/// which <see cref="ViewSet"/> turns into "skip this record": views read every field before changing anything, so a
/// malformed event never leaves a view half-updated.
/// </summary>
internal static class JsonFields
{
    public static string String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : throw Missing(name);

    public static long Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetInt64(out var v) ? v : throw Missing(name);

    public static JsonElement Array(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Array ? p : throw Missing(name);

    private static FormatException Missing(string name) => new($"field '{name}' is missing or of the wrong type");
}
