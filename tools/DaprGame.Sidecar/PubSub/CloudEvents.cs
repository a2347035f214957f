using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DaprGame.Sidecar.PubSub;

/// <summary>
/// The CloudEvent envelope daprd wraps around a published message (shared/dapr-contract.md §3.3), and the synthetic
/// event it builds for <c>rawPayload</c> subscribers. Kept in one place so publish and delivery agree on field names.
/// </summary>
internal static class CloudEvents
{
    public const string ContentType = "application/cloudevents+json";
    public const string DefaultType = "com.dapr.event.sent";
    public const string DefaultSource = "Dapr";
    public const string SpecVersion = "1.0";

    /// <summary>What goes into one envelope: the published bytes, their content type and the publish metadata.</summary>
    public readonly record struct Input(
        string PubSubName,
        string Topic,
        ReadOnlyMemory<byte> Data,
        string? DataContentType,
        IReadOnlyDictionary<string, string> Metadata,
        string SourceAppId,
        string TraceParent,
        string TraceState,
        DateTimeOffset Now);

    /// <summary>Builds the envelope daprd publishes, or passes a publisher's own CloudEvent through with daprd's additions.</summary>
    /// <exception cref="JsonException">The publisher sent <c>application/cloudevents+json</c> that is not a JSON object.</exception>
    public static byte[] Build(in Input input)
    {
        var ttl = TtlOf(input.Metadata);
        if (IsCloudEventContentType(input.DataContentType))
        {
            return PassThrough(input, ttl);
        }

        var buffer = new ArrayBufferWriter<byte>(input.Data.Length + 512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            var contentType = string.IsNullOrEmpty(input.DataContentType) ? "text/plain" : input.DataContentType;
            // Keys in the order Go's encoding/json writes a map: sorted.
            w.WriteStartObject();
            WriteData(w, input.Data, contentType);
            w.WriteString("datacontenttype", contentType);
            if (ttl is { } t)
            {
                w.WriteString("expiration", Rfc3339(input.Now.UtcDateTime.Add(t)));
            }
            w.WriteString("id", Override(input.Metadata, "id") ?? Guid.NewGuid().ToString());
            w.WriteString("pubsubname", input.PubSubName);
            w.WriteString("source", Override(input.Metadata, "source") ?? input.SourceAppId);
            w.WriteString("specversion", SpecVersion);
            if (Override(input.Metadata, "subject") is { } subject)
            {
                w.WriteString("subject", subject);
            }
            w.WriteString("time", Rfc3339(input.Now));
            w.WriteString("topic", input.Topic);
            w.WriteString("traceid", Override(input.Metadata, "traceid") ?? Override(input.Metadata, "traceparent") ?? input.TraceParent);
            w.WriteString("traceparent", Override(input.Metadata, "traceparent") ?? Override(input.Metadata, "traceid") ?? input.TraceParent);
            w.WriteString("tracestate", Override(input.Metadata, "tracestate") ?? input.TraceState);
            w.WriteString("type", Override(input.Metadata, "type") ?? DefaultType);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The event daprd makes up for a subscriber that set <c>rawPayload</c>: random id, source <c>Dapr</c>, bytes as <c>data_base64</c>.</summary>
    public static byte[] FromRawPayload(ReadOnlySpan<byte> data, string topic, string pubsubName)
    {
        var buffer = new ArrayBufferWriter<byte>((data.Length * 4 / 3) + 256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteBase64String("data_base64", data);
            w.WriteString("datacontenttype", "application/octet-stream");
            w.WriteString("id", Guid.NewGuid().ToString());
            w.WriteString("pubsubname", pubsubName);
            w.WriteString("source", DefaultSource);
            w.WriteString("specversion", SpecVersion);
            w.WriteString("topic", topic);
            w.WriteString("type", DefaultType);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>True when an event carries an <c>expiration</c> in the past (daprd drops it on the subscriber side).</summary>
    public static bool HasExpired(JsonElement cloudEvent, DateTimeOffset now) =>
        cloudEvent.ValueKind == JsonValueKind.Object
        && cloudEvent.TryGetProperty("expiration", out var e)
        && e.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
        && at < now;

    public static bool IsCloudEventContentType(string? contentType) =>
        contentType is not null && MediaType(contentType).Equals(ContentType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Go's <c>time.RFC3339</c>: second precision, <c>Z</c> for UTC, else the numeric offset.</summary>
    public static string Rfc3339(DateTimeOffset t) =>
        t.Offset == TimeSpan.Zero
            ? t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : t.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    /// <summary>daprd's truthy strings for boolean metadata such as <c>rawPayload</c>.</summary>
    public static bool IsTruthy(string? value) =>
        value is not null && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1"
            || value.Equals("t", StringComparison.OrdinalIgnoreCase) || value.Equals("y", StringComparison.OrdinalIgnoreCase)
            || value.Equals("yes", StringComparison.OrdinalIgnoreCase) || value.Equals("on", StringComparison.OrdinalIgnoreCase));

    /// <summary>Metadata lookup ignoring case, as daprd matches <c>rawPayload</c>, <c>ttlInSeconds</c> and <c>cloudevent.*</c>.</summary>
    public static string? Get(IReadOnlyDictionary<string, string> metadata, string key)
    {
        if (metadata.TryGetValue(key, out var exact))
        {
            return exact;
        }
        foreach (var (k, v) in metadata)
        {
            if (k.Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }
        return null;
    }

    /// <exception cref="FormatException"><c>ttlInSeconds</c> is not a non-negative integer.</exception>
    public static TimeSpan? TtlOf(IReadOnlyDictionary<string, string> metadata)
    {
        if (Get(metadata, "ttlInSeconds") is not { Length: > 0 } text)
        {
            return null;
        }
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) || seconds < 0)
        {
            throw new FormatException($"ttlInSeconds '{text}' is not a non-negative integer");
        }
        return TimeSpan.FromSeconds(seconds);
    }

    private static string? Override(IReadOnlyDictionary<string, string> metadata, string field) =>
        metadata.Count == 0 ? null : Get(metadata, "cloudevent." + field) is { Length: > 0 } v ? v : null;

    private static string MediaType(string contentType)
    {
        var semi = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semi < 0 ? contentType : contentType[..semi]).Trim();
    }

    private static void WriteData(Utf8JsonWriter w, ReadOnlyMemory<byte> data, string contentType)
    {
        var media = MediaType(contentType);
        if (media.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            // Embedded as a JSON value with numbers kept as written; unparsable JSON travels as a string.
            JsonDocument? doc = null;
            try
            {
                doc = data.Length > 0 ? JsonDocument.Parse(data) : null;
            }
            catch (JsonException)
            {
            }
            if (doc is not null)
            {
                using (doc)
                {
                    w.WritePropertyName("data");
                    doc.RootElement.WriteTo(w);
                }
                return;
            }
            w.WriteString("data", Encoding.UTF8.GetString(data.Span));
            return;
        }
        if (media.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/protobuf", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase))
        {
            w.WriteBase64String("data_base64", data.Span);
            return;
        }
        w.WriteString("data", Encoding.UTF8.GetString(data.Span));
    }

    private static byte[] PassThrough(in Input input, TimeSpan? ttl)
    {
        if (JsonNode.Parse(input.Data.Span) is not JsonObject e)
        {
            throw new JsonException("the published application/cloudevents+json body is not a JSON object");
        }
        e["topic"] = input.Topic;
        e["pubsubname"] = input.PubSubName;
        e.TryAdd("time", Rfc3339(input.Now));
        e.TryAdd("traceid", input.TraceParent);
        e.TryAdd("traceparent", input.TraceParent);
        e.TryAdd("tracestate", input.TraceState);
        e.TryAdd("source", DefaultSource);
        e.TryAdd("type", DefaultType);
        e.TryAdd("specversion", SpecVersion);
        if (ttl is { } t)
        {
            e["expiration"] = Rfc3339(input.Now.UtcDateTime.Add(t));
        }
        return JsonSerializer.SerializeToUtf8Bytes(e);
    }
}
