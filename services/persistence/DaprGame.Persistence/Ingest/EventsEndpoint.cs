using System.Text;
using System.Text.Json;
using Dapr.AspNetCore;
using DaprGame.Contracts;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Infrastructure;

namespace DaprGame.Persistence.Ingest;

/// <summary>
/// Every logged topic (<see cref="Topics.Logged"/>) is delivered here in bulk (Dapr bulk subscribe; daprd batches for
/// brokers without native bulk support too). Each entry's CloudEvent gives the event type; its data gives the event id
/// (the integration event's <c>id</c>, the CloudEvent's when it has none), stream, sequence and time. The data is kept byte for byte as delivered. An entry is acknowledged only once its
/// batch's state transaction committed; a malformed entry is dropped (it could never be logged) and counted.
/// </summary>
public static partial class EventsEndpoint
{
    public const string RoutePrefix = "/internal/events/";

    /// <summary>The largest event data the log takes; larger is dropped as malformed.</summary>
    public const int MaxDataBytes = 256 * 1024;

    public static IEndpointRouteBuilder MapEventIngest(this IEndpointRouteBuilder routes, PersistenceOptions options)
    {
        foreach (var topic in Topics.Logged)
        {
            routes.MapPost(RoutePrefix + topic, (HttpContext context, LogKeeper keeper, ILogger<LogKeeper> logger) => ReceiveAsync(context, keeper, logger))
                .WithTopic(Components.PubSub, topic)
                .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = options.BulkMaxMessages, MaxAwaitDurationMs = options.BulkMaxAwaitMs })
                .ExcludeFromDescription();
        }
        return routes;
    }

    private static async Task<IResult> ReceiveAsync(HttpContext context, LogKeeper keeper, ILogger logger)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        if (!body.RootElement.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            return Results.BadRequest(new { error = "a bulk delivery has an entries array" });
        }
        var ids = new List<string>(entries.GetArrayLength());
        var verdicts = new List<EntryVerdict>(ids.Capacity);
        var events = new List<IncomingEvent>(ids.Capacity);
        var slots = new List<int>(ids.Capacity);
        foreach (var entry in entries.EnumerateArray())
        {
            var entryId = entry.TryGetProperty("entryId", out var id) ? id.GetString() ?? "" : "";
            ids.Add(entryId);
            if (Parse(entry) is { } incoming)
            {
                verdicts.Add(EntryVerdict.Retry);
                slots.Add(verdicts.Count - 1);
                events.Add(incoming);
            }
            else
            {
                verdicts.Add(EntryVerdict.Drop);
                keeper.CountDropped(1);
                LogDropped(logger, entryId);
            }
        }
        if (events.Count > 0)
        {
            var outcome = await keeper.AppendAsync(events, context.RequestAborted);
            for (var i = 0; i < outcome.Length; i++)
            {
                verdicts[slots[i]] = outcome[i];
            }
        }
        var statuses = new object[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            statuses[i] = new { entryId = ids[i], status = verdicts[i] switch { EntryVerdict.Success => "SUCCESS", EntryVerdict.Drop => "DROP", _ => "RETRY" } };
        }
        return Results.Ok(new { statuses });
    }

    /// <summary>The event an entry holds, or null when it is not a CloudEvent carrying an integration event.</summary>
    internal static IncomingEvent? Parse(JsonElement entry)
    {
        if (!entry.TryGetProperty("event", out var cloudEvent) || cloudEvent.ValueKind != JsonValueKind.Object
            || !cloudEvent.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString())
            || !cloudEvent.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(type.GetString())
            || !cloudEvent.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        if (!data.TryGetProperty("streamId", out var stream) || stream.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(stream.GetString())
            || !data.TryGetProperty("sequence", out var sequence) || !sequence.TryGetInt64(out var seq) || seq < 0
            || !data.TryGetProperty("occurredAt", out var occurred) || !occurred.TryGetDateTimeOffset(out var at))
        {
            return null;
        }
        // The integration event's own id is the dedup key: a producer's outbox retry publishes a new CloudEvent (new id)
        // for the same event. The CloudEvent id stands in for events that carry none.
        var eventId = data.TryGetProperty("id", out var own) && own.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(own.GetString())
            ? own.GetString()!
            : id.GetString()!;
        var raw = Encoding.UTF8.GetBytes(data.GetRawText());
        return raw.Length > MaxDataBytes ? null : new IncomingEvent(eventId, type.GetString()!, stream.GetString()!, seq, at, raw);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "delivery entry {EntryId} dropped: not a CloudEvent carrying an integration event (id, type, data with streamId, sequence, occurredAt)")]
    private static partial void LogDropped(ILogger logger, string entryId);
}
