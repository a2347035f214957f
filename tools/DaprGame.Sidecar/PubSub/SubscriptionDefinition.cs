using System.Globalization;
using System.Text.Json;
using DaprGame.Sidecar.Components;

namespace DaprGame.Sidecar.PubSub;

/// <summary>Bulk delivery settings of a subscription; defaults are daprd's and the SDK's (100 messages, 1000 ms).</summary>
internal sealed record BulkSubscribeOptions(int MaxMessagesCount = 100, int MaxAwaitDurationMs = 1000);

/// <summary>
/// One subscription as daprd understands it, whichever way it was declared: the app's <c>GET /dapr/subscribe</c>
/// (<c>PROGRAMMATIC</c>) or a <c>kind: Subscription</c> resource (<c>DECLARATIVE</c>).
/// </summary>
internal sealed record SubscriptionDefinition(
    string PubSubName,
    string Topic,
    string? DefaultRoute,
    IReadOnlyList<RouteRule> Rules,
    string? DeadLetterTopic,
    IReadOnlyDictionary<string, string> Metadata,
    BulkSubscribeOptions? Bulk,
    string Type)
{
    public const string Programmatic = "PROGRAMMATIC";
    public const string Declarative = "DECLARATIVE";

    public bool RawPayload => CloudEvents.IsTruthy(CloudEvents.Get(Metadata, "rawPayload"));

    public static SubscriptionDefinition From(SubscriptionSpec spec) =>
        new(spec.PubSubName, spec.Topic, spec.DefaultRoute, spec.Rules, spec.DeadLetterTopic, spec.Metadata, null, Declarative);

    /// <summary>
    /// Parses the body of <c>GET /dapr/subscribe</c> as leniently as daprd's Go decoder: field names in any case
    /// (<c>pubsubName</c> and <c>pubsubname</c>), <c>route</c> or <c>routes{default, rules}</c>, metadata values of any JSON type.
    /// </summary>
    /// <exception cref="JsonException">The body is not a JSON array of objects.</exception>
    public static List<SubscriptionDefinition> ParseProgrammatic(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        using var doc = JsonDocument.ParseValue(ref reader);
        if (doc.RootElement.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("expected a JSON array of subscriptions");
        }
        var result = new List<SubscriptionDefinition>();
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("each subscription must be a JSON object");
            }
            string? defaultRoute = String(item, "route");
            var rules = new List<RouteRule>();
            if (Property(item, "routes") is { ValueKind: JsonValueKind.Object } routes)
            {
                defaultRoute = String(routes, "default") is { Length: > 0 } d ? d : defaultRoute;
                if (Property(routes, "rules") is { ValueKind: JsonValueKind.Array } list)
                {
                    foreach (var r in list.EnumerateArray())
                    {
                        rules.Add(new RouteRule(String(r, "match") ?? "", String(r, "path") ?? ""));
                    }
                }
            }
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (Property(item, "metadata") is { ValueKind: JsonValueKind.Object } m)
            {
                foreach (var p in m.EnumerateObject())
                {
                    metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.GetRawText();
                }
            }
            BulkSubscribeOptions? bulk = null;
            if (Property(item, "bulkSubscribe") is { ValueKind: JsonValueKind.Object } b && Property(b, "enabled") is { ValueKind: JsonValueKind.True })
            {
                bulk = new BulkSubscribeOptions(
                    Int(b, "maxMessagesCount") is > 0 and var count ? count : 100,
                    Int(b, "maxAwaitDurationMs") is > 0 and var wait ? wait : 1000);
            }
            result.Add(new SubscriptionDefinition(
                String(item, "pubsubname") ?? "",
                String(item, "topic") ?? "",
                defaultRoute,
                rules,
                String(item, "deadLetterTopic") is { Length: > 0 } dl ? dl : null,
                metadata,
                bulk,
                Programmatic));
        }
        return result;
    }

    private static JsonElement? Property(JsonElement obj, string name)
    {
        foreach (var p in obj.EnumerateObject())
        {
            if (p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value;
            }
        }
        return null;
    }

    private static string? String(JsonElement obj, string name) =>
        Property(obj, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static int? Int(JsonElement obj, string name) =>
        Property(obj, name) switch
        {
            { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var n) => n,
            { ValueKind: JsonValueKind.String } v when int.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        };
}
