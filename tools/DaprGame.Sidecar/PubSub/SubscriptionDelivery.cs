using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Resiliency;
using DaprGame.Sidecar.Tracing;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.PubSub;

/// <summary>A delivery that failed for good: the component decides what happens next (Redis acks, in-memory logs).</summary>
public sealed class PubSubDeliveryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// daprd's "postman" for one subscription: turns a broker message into the request the app expects, picks the
/// route, reads the app's answer exactly as daprd does (shared/dapr-contract.md §3.4), retries under the pubsub's
/// inbound resiliency policy and dead-letters what is dropped or exhausted. Called by the component, once per message.
/// </summary>
internal sealed class SubscriptionDelivery
{
    private static readonly MediaTypeHeaderValue CloudEventMediaType = new(CloudEvents.ContentType);
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");
    private static readonly TimeSpan DeadLetterTimeout = TimeSpan.FromSeconds(30);

    private readonly SubscriptionDefinition _definition;
    private readonly List<(RouteExpression Match, string Path)> _rules;
    private readonly PubSubHandle _pubsub;
    private readonly AppChannel _app;
    private readonly TimeProvider _time;
    private readonly ResiliencyExecutor? _resiliency;
    private readonly SidecarTracer? _tracer;
    private readonly ILogger _log;

    /// <exception cref="FormatException">A routing rule is outside the supported CEL subset.</exception>
    public SubscriptionDelivery(SubscriptionDefinition definition, PubSubHandle pubsub, SidecarRuntime runtime, AppChannel app, ILogger log)
    {
        _definition = definition;
        _pubsub = pubsub;
        _app = app;
        _time = runtime.Time;
        _log = log;
        _resiliency = runtime.Resiliency.ForComponentInbound(definition.PubSubName, "Pubsub");
        _tracer = runtime.Tracer;
        _rules = new List<(RouteExpression, string)>(definition.Rules.Count);
        foreach (var rule in definition.Rules)
        {
            if (string.IsNullOrWhiteSpace(rule.Match))
            {
                continue;
            }
            _rules.Add((RouteExpression.Parse(rule.Match), rule.Path));
        }
    }

    private enum Outcome
    {
        Success,
        Drop,
        Retry,
    }

    /// <summary>The <see cref="MessageHandler"/> given to the component.</summary>
    public async Task HandleAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        var eventBytes = _definition.RawPayload
            ? CloudEvents.FromRawPayload(message.Data, message.Topic, _definition.PubSubName)
            : message.Data;

        JsonDocument cloudEvent;
        try
        {
            cloudEvent = JsonDocument.Parse(eventBytes);
            if (cloudEvent.RootElement.ValueKind != JsonValueKind.Object)
            {
                cloudEvent.Dispose();
                throw new JsonException("not a JSON object");
            }
        }
        catch (JsonException e)
        {
            _log.LogError("error deserializing cloud event in pubsub {PubSub} and topic {Topic}: {Error}", _definition.PubSubName, message.Topic, e.Message);
            if (await TryDeadLetterAsync(message, cancellationToken))
            {
                return;
            }
            throw new PubSubDeliveryException($"error deserializing cloud event in pubsub {_definition.PubSubName} and topic {message.Topic}", e);
        }

        using (cloudEvent)
        {
            var root = cloudEvent.RootElement;
            if (CloudEvents.HasExpired(root, _time.GetUtcNow()))
            {
                _log.LogWarning("dropping expired pub/sub event {Id} as of {Expiration}", IdOf(root), root.GetProperty("expiration").GetString());
                await TryDeadLetterAsync(message, cancellationToken);
                return;
            }

            string? path;
            try
            {
                path = Route(root);
            }
            catch (InvalidOperationException e)
            {
                _log.LogError("error finding matching route for event {Id} in pubsub {PubSub} and topic {Topic}: {Error}", IdOf(root), _definition.PubSubName, message.Topic, e.Message);
                throw new PubSubDeliveryException(e.Message, e);
            }
            if (path is null)
            {
                _log.LogDebug("no matching route for event {Id} in pubsub {PubSub} and topic {Topic}; skipping", IdOf(root), _definition.PubSubName, message.Topic);
                await TryDeadLetterAsync(message, cancellationToken);
                return;
            }

            var span = _tracer?.Start($"deliver/{_definition.PubSubName}/{message.Topic}", ActivityKind.Consumer,
                root.TryGetProperty("traceparent", out var tp) && tp.ValueKind == JsonValueKind.String ? tp.GetString() : null);
            span?.SetTag("dapr.api", "deliver");
            span?.SetTag("messaging.destination.name", message.Topic);
            Outcome outcome;
            string? error;
            try
            {
                (outcome, error) = await DeliverWithRetriesAsync(message, eventBytes, root, path, span is null ? null : SidecarTracer.TraceparentOf(span), cancellationToken);
            }
            catch (Exception e)
            {
                SidecarTracer.Stop(span, error: e.Message);
                throw;
            }
            SidecarTracer.Stop(span, error: outcome == Outcome.Retry ? error : null);
            switch (outcome)
            {
                case Outcome.Success:
                    return;
                case Outcome.Drop:
                    _log.LogWarning("DROP status returned from app while processing pub/sub event {Id}: {Error}", IdOf(root), error);
                    await TryDeadLetterAsync(message, cancellationToken);
                    return;
                default:
                    if (await TryDeadLetterAsync(message, cancellationToken))
                    {
                        return;
                    }
                    throw new PubSubDeliveryException($"retriable error returned from app while processing pub/sub event {IdOf(root)}, topic: {message.Topic}: {error}");
            }
        }
    }

    private string? Route(JsonElement cloudEvent)
    {
        foreach (var (match, path) in _rules)
        {
            if (match.Matches(cloudEvent))
            {
                return path;
            }
        }
        return string.IsNullOrEmpty(_definition.DefaultRoute) ? null : _definition.DefaultRoute;
    }

    /// <summary>
    /// One delivery under the pubsub's inbound policies (shared engine: retry, breaker, timeout per attempt); without a
    /// policy, a single attempt. Transport errors and RETRY answers are retriable; DROP and success end the delivery.
    /// </summary>
    private async Task<(Outcome, string?)> DeliverWithRetriesAsync(PubSubMessage message, byte[] eventBytes, JsonElement cloudEvent, string path, string? spanTraceparent, CancellationToken cancellationToken)
    {
        Task<(Outcome, string?)> Once(CancellationToken ct) => _definition.Bulk is null
            ? DeliverOnceAsync(message, eventBytes, cloudEvent, path, spanTraceparent, ct)
            : DeliverBulkOnceAsync(message, eventBytes, path, ct);

        if (_resiliency is null)
        {
            try
            {
                return await Once(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException)
            {
                return (Outcome.Retry, e is OperationCanceledException ? "timed out" : e.Message);
            }
        }
        try
        {
            return await _resiliency.ExecuteAsync(
                Once,
                static r => r.Item1 == Outcome.Retry ? AttemptVerdict.RetriableFailure : AttemptVerdict.Success,
                isRetriable: static e => e is HttpRequestException or IOException,
                cancellationToken: cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException or TimeoutException or CircuitBreakerOpenException)
        {
            return (Outcome.Retry, e is TimeoutException or OperationCanceledException ? "timed out" : e.Message);
        }
    }

    private async Task<(Outcome, string?)> DeliverOnceAsync(PubSubMessage message, byte[] eventBytes, JsonElement cloudEvent, string path, string? spanTraceparent, CancellationToken cancellationToken)
    {
        using var request = _app.CreateRequest(HttpMethod.Post, path);
        request.Content = new ByteArrayContent(eventBytes);
        request.Content.Headers.ContentType = CloudEventMediaType;
        AddMetadataHeaders(request, message.Metadata);
        // The app's parent is the sidecar's delivery span when one is recorded, else the publisher's context.
        if (spanTraceparent is not null)
        {
            request.Headers.Remove("traceparent");
            request.Headers.TryAddWithoutValidation("traceparent", spanTraceparent);
        }
        else if (cloudEvent.TryGetProperty("traceparent", out var tp) && tp.ValueKind == JsonValueKind.String && tp.GetString() is { Length: > 0 } traceParent)
        {
            request.Headers.Remove("traceparent");
            request.Headers.TryAddWithoutValidation("traceparent", traceParent);
        }
        if (cloudEvent.TryGetProperty("tracestate", out var ts) && ts.ValueKind == JsonValueKind.String && ts.GetString() is { Length: > 0 } traceState)
        {
            request.Headers.Remove("tracestate");
            request.Headers.TryAddWithoutValidation("tracestate", traceState);
        }

        using var response = await _app.SendAsync(request, cancellationToken);
        var status = (int)response.StatusCode;
        if (status is >= 200 and <= 299)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return StatusOf(body) switch
            {
                null or "" or "SUCCESS" => (Outcome.Success, null),
                "DROP" => (Outcome.Drop, "app requested DROP"),
                "RETRY" => (Outcome.Retry, "RETRY status returned from app"),
                var other => (Outcome.Retry, $"unknown status returned from app: {other}"),
            };
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            _log.LogError("non-retriable error returned from app while processing pub/sub event: 404 on /{Path}", path.TrimStart('/'));
            return (Outcome.Drop, "app returned 404");
        }
        return (Outcome.Retry, $"app returned HTTP {status}");
    }

    /// <summary>
    /// Bulk subscribe, one message per batch: the <c>{"entries":[…]}</c> envelope with <c>application/json</c>, and the
    /// app's per-entry status (a missing or unknown status is RETRY).
    /// </summary>
    private async Task<(Outcome, string?)> DeliverBulkOnceAsync(PubSubMessage message, byte[] eventBytes, string path, CancellationToken cancellationToken)
    {
        var entryId = Guid.NewGuid().ToString();
        var buffer = new ArrayBufferWriter<byte>(eventBytes.Length + 512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", Guid.NewGuid().ToString());
            w.WriteString("type", "com.dapr.event.sent.bulk");
            w.WriteString("topic", message.Topic);
            w.WriteString("pubsubname", _definition.PubSubName);
            w.WriteStartObject("metadata");
            w.WriteString("pubsubName", _definition.PubSubName);
            w.WriteEndObject();
            w.WriteStartArray("entries");
            w.WriteStartObject();
            w.WriteString("entryId", entryId);
            w.WritePropertyName("event");
            if (_definition.RawPayload)
            {
                w.WriteBase64StringValue(message.Data);
                w.WriteString("contentType", "application/octet-stream");
            }
            else
            {
                w.WriteRawValue(eventBytes, skipInputValidation: true);
                w.WriteString("contentType", CloudEvents.ContentType);
            }
            w.WriteStartObject("metadata");
            foreach (var (k, v) in message.Metadata)
            {
                w.WriteString(k, v);
            }
            w.WriteString("pubsubName", _definition.PubSubName);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        using var request = _app.CreateRequest(HttpMethod.Post, path);
        request.Content = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        request.Content.Headers.ContentType = JsonMediaType;
        using var response = await _app.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return (Outcome.Drop, "app returned 404 for the bulk request");
        }
        if ((int)response.StatusCode is < 200 or > 299)
        {
            return (Outcome.Retry, $"app returned HTTP {(int)response.StatusCode} for the bulk request");
        }
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        string? status = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("statuses", out var statuses) && statuses.ValueKind == JsonValueKind.Array)
            {
                foreach (var s in statuses.EnumerateArray())
                {
                    if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("entryId", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() == entryId
                        && s.TryGetProperty("status", out var st) && st.ValueKind == JsonValueKind.String)
                    {
                        status = st.GetString()?.ToUpperInvariant();
                    }
                }
            }
        }
        catch (JsonException)
        {
            return (Outcome.Retry, "failed unmarshalling app response for bulk subscribe");
        }
        return status switch
        {
            "SUCCESS" => (Outcome.Success, null),
            "DROP" => (Outcome.Drop, "app requested DROP"),
            null or "" => (Outcome.Retry, "no status for the entry in the app's bulk response"),
            "RETRY" => (Outcome.Retry, "RETRY status returned from app"),
            var other => (Outcome.Retry, $"unknown status returned from app: {other}"),
        };
    }

    /// <summary>Every message metadata entry becomes a header, plus <c>pubsubName</c>, as daprd's HTTP channel does.</summary>
    private void AddMetadataHeaders(HttpRequestMessage request, IReadOnlyDictionary<string, string> metadata)
    {
        foreach (var (k, v) in metadata)
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }
        request.Headers.TryAddWithoutValidation("pubsubName", _definition.PubSubName);
    }

    /// <summary>The app's <c>status</c> field, upper-cased; null when the body is empty or not a JSON object (success).</summary>
    private static string? StatusOf(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString()?.ToUpperInvariant()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Publishes the original message to the dead-letter topic, if the subscription has one. True when it did.</summary>
    private async Task<bool> TryDeadLetterAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        if (_definition.DeadLetterTopic is not { Length: > 0 } topic)
        {
            return false;
        }
        cancellationToken.ThrowIfCancellationRequested();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DeadLetterTimeout);
        try
        {
            await _pubsub.PubSub.PublishAsync(message with { Topic = topic }, timeout.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new PubSubDeliveryException($"failed to publish message to dead letter topic {topic} in pubsub {_definition.PubSubName}: {e.Message}", e);
        }
        return true;
    }

    private static string IdOf(JsonElement cloudEvent) =>
        cloudEvent.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() ?? "" : "";
}
