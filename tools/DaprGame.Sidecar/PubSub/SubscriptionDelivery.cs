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
/// inbound resiliency policy and dead-letters what is dropped or exhausted. Called by the component, once per message;
/// for a bulk subscription the message joins a batch (<see cref="BulkBatcher"/>) and the call returns once the app has
/// answered for it.
/// </summary>
internal sealed class SubscriptionDelivery : IAsyncDisposable
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
    private readonly BulkBatcher? _batcher;

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
        if (definition.Bulk is { } bulk)
        {
            _batcher = new BulkBatcher(bulk, _time, FlushAsync);
        }
    }

    /// <summary>Stops the bulk batcher, after the component has stopped handing messages over.</summary>
    public ValueTask DisposeAsync() => _batcher?.DisposeAsync() ?? ValueTask.CompletedTask;

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

            DeliveryOutcome outcome;
            string? error;
            if (_batcher is not null)
            {
                // daprd's bulk path starts its spans per entry when the batch is sent (DeliverBulk).
                var traceparent = root.TryGetProperty("traceparent", out var etp) && etp.ValueKind == JsonValueKind.String ? etp.GetString() : null;
                (outcome, error) = await _batcher.SubmitAsync(message, eventBytes, path, traceparent, cancellationToken);
            }
            else
            {
                var span = _tracer?.Start($"deliver/{_definition.PubSubName}/{message.Topic}", ActivityKind.Consumer,
                    root.TryGetProperty("traceparent", out var tp) && tp.ValueKind == JsonValueKind.String ? tp.GetString() : null);
                span?.SetTag("dapr.api", "deliver");
                span?.SetTag("messaging.destination.name", message.Topic);
                try
                {
                    (outcome, error) = await DeliverWithRetriesAsync(message, eventBytes, root, path, span is null ? null : SidecarTracer.TraceparentOf(span), cancellationToken);
                }
                catch (Exception e)
                {
                    SidecarTracer.Stop(span, error: e.Message);
                    throw;
                }
                SidecarTracer.Stop(span, error: outcome == DeliveryOutcome.Retry ? error : null);
            }
            switch (outcome)
            {
                case DeliveryOutcome.Success:
                    return;
                case DeliveryOutcome.Drop:
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
    private async Task<(DeliveryOutcome, string?)> DeliverWithRetriesAsync(PubSubMessage message, byte[] eventBytes, JsonElement cloudEvent, string path, string? spanTraceparent, CancellationToken cancellationToken)
    {
        Task<(DeliveryOutcome, string?)> Once(CancellationToken ct) => DeliverOnceAsync(message, eventBytes, cloudEvent, path, spanTraceparent, ct);

        if (_resiliency is null)
        {
            try
            {
                return await Once(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException)
            {
                return (DeliveryOutcome.Retry, e is OperationCanceledException ? "timed out" : e.Message);
            }
        }
        try
        {
            return await _resiliency.ExecuteAsync(
                Once,
                static r => r.Item1 == DeliveryOutcome.Retry ? AttemptVerdict.RetriableFailure : AttemptVerdict.Success,
                isRetriable: static e => e is HttpRequestException or IOException,
                cancellationToken: cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException or TimeoutException or CircuitBreakerOpenException)
        {
            return (DeliveryOutcome.Retry, e is TimeoutException or OperationCanceledException ? "timed out" : e.Message);
        }
    }

    private async Task<(DeliveryOutcome, string?)> DeliverOnceAsync(PubSubMessage message, byte[] eventBytes, JsonElement cloudEvent, string path, string? spanTraceparent, CancellationToken cancellationToken)
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
                null or "" or "SUCCESS" => (DeliveryOutcome.Success, null),
                "DROP" => (DeliveryOutcome.Drop, "app requested DROP"),
                "RETRY" => (DeliveryOutcome.Retry, "RETRY status returned from app"),
                var other => (DeliveryOutcome.Retry, $"unknown status returned from app: {other}"),
            };
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            _log.LogError("non-retriable error returned from app while processing pub/sub event: 404 on /{Path}", path.TrimStart('/'));
            return (DeliveryOutcome.Drop, "app returned 404");
        }
        return (DeliveryOutcome.Retry, $"app returned HTTP {status}");
    }

    /// <summary>
    /// Sends one batch (the <see cref="BulkBatcher"/>'s flush) and completes every entry. As daprd's
    /// <c>bulkSubscribeTopic</c> (<c>pkg/runtime/subscription/bulksubscription.go</c>): entries are grouped by the path
    /// their event routed to, and each path gets its own request, one after another.
    /// </summary>
    private async Task FlushAsync(List<BulkEntry> batch, CancellationToken cancellationToken)
    {
        var byPath = new List<(string Path, List<BulkEntry> Entries)>(1);
        foreach (var entry in batch)
        {
            var group = byPath.FindIndex(g => g.Path == entry.Path);
            if (group < 0)
            {
                byPath.Add((entry.Path, [entry]));
            }
            else
            {
                byPath[group].Entries.Add(entry);
            }
        }
        foreach (var (path, entries) in byPath)
        {
            try
            {
                await DeliverBulkWithRetriesAsync(entries, path, cancellationToken);
            }
            catch (Exception e)
            {
                foreach (var entry in entries)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        entry.Cancel();
                    }
                    else
                    {
                        entry.Complete(DeliveryOutcome.Retry, e.Message);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One path's entries under the pubsub's inbound policies. As daprd's <c>applyBulkSubscribeResiliency</c>
    /// (<c>pkg/runtime/subscription/bulkresiliency.go</c>), a retry resends only the entries that failed (RETRY, an
    /// unknown or missing status, or every entry after a transport error or a non-2xx answer); the others are settled
    /// as soon as the app has answered for them. Without a policy, one attempt.
    /// </summary>
    private async Task DeliverBulkWithRetriesAsync(List<BulkEntry> entries, string path, CancellationToken cancellationToken)
    {
        var pending = entries;
        var lastError = "no answer from the app";

        async Task<bool> Once(CancellationToken ct)
        {
            var attempt = pending;
            var verdicts = await DeliverBulkOnceAsync(attempt, path, ct);
            var failed = new List<BulkEntry>();
            for (var i = 0; i < attempt.Count; i++)
            {
                if (verdicts[i].Outcome == DeliveryOutcome.Retry)
                {
                    failed.Add(attempt[i]);
                    lastError = verdicts[i].Error ?? lastError;
                }
                else
                {
                    attempt[i].Complete(verdicts[i].Outcome, verdicts[i].Error);
                }
            }
            pending = failed;
            return failed.Count == 0;
        }

        try
        {
            if (_resiliency is null)
            {
                await Once(cancellationToken);
            }
            else
            {
                await _resiliency.ExecuteAsync(
                    Once,
                    static done => done ? AttemptVerdict.Success : AttemptVerdict.RetriableFailure,
                    isRetriable: static e => e is HttpRequestException or IOException,
                    cancellationToken: cancellationToken);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException or TimeoutException or CircuitBreakerOpenException)
        {
            lastError = e is TimeoutException or OperationCanceledException ? "timed out" : e.Message;
        }
        foreach (var entry in pending)
        {
            entry.Complete(DeliveryOutcome.Retry, lastError);
        }
    }

    /// <summary>
    /// One bulk request (daprd's <c>DeliverBulk</c>, <c>pkg/runtime/subscription/postman/http/http.go</c>): the
    /// <c>{"entries":[…]}</c> envelope as <c>application/json</c> with the batch metadata (<c>pubsubName</c>) also as
    /// headers, and a verdict per entry, in the order of <paramref name="entries"/>: SUCCESS and DROP as answered; RETRY,
    /// an empty or unknown status, or no status at all, retry. A 404 drops every entry, without a dead letter (daprd marks
    /// them done); any other non-2xx answer, or a body that is not JSON, retries every entry.
    /// Tracing as daprd: a span per entry whose event carries a traceparent, each under its own event's trace, ended with
    /// the response; the request carries the context of the last one.
    /// </summary>
    private async Task<(DeliveryOutcome Outcome, string? Error)[]> DeliverBulkOnceAsync(List<BulkEntry> entries, string path, CancellationToken cancellationToken)
    {
        var topic = entries[0].Message.Topic;
        var size = 512;
        foreach (var entry in entries)
        {
            size += entry.EventBytes.Length + 256;
        }
        var buffer = new ArrayBufferWriter<byte>(size);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", Guid.NewGuid().ToString());
            w.WriteString("type", "com.dapr.event.sent.bulk");
            w.WriteString("topic", topic);
            w.WriteString("pubsubname", _definition.PubSubName);
            w.WriteStartObject("metadata");
            w.WriteString("pubsubName", _definition.PubSubName);
            w.WriteEndObject();
            w.WriteStartArray("entries");
            foreach (var entry in entries)
            {
                w.WriteStartObject();
                w.WriteString("entryId", entry.EntryId);
                w.WritePropertyName("event");
                if (_definition.RawPayload)
                {
                    w.WriteBase64StringValue(entry.Message.Data);
                    w.WriteString("contentType", "application/octet-stream");
                }
                else
                {
                    w.WriteRawValue(entry.EventBytes, skipInputValidation: true);
                    w.WriteString("contentType", CloudEvents.ContentType);
                }
                w.WriteStartObject("metadata");
                foreach (var (k, v) in entry.Message.Metadata)
                {
                    w.WriteString(k, v);
                }
                w.WriteString("pubsubName", _definition.PubSubName);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }

        List<Activity>? spans = null;
        string? traceparent = null;
        foreach (var entry in entries)
        {
            if (entry.Traceparent is not { Length: > 0 } parent)
            {
                continue;
            }
            traceparent = parent;
            if (_tracer?.Start($"deliver/{_definition.PubSubName}/{topic}", ActivityKind.Consumer, parent) is { } span)
            {
                span.SetTag("dapr.api", "deliver");
                span.SetTag("messaging.destination.name", topic);
                (spans ??= []).Add(span);
                traceparent = SidecarTracer.TraceparentOf(span);
            }
        }

        using var request = _app.CreateRequest(HttpMethod.Post, path);
        request.Content = new ByteArrayContent(buffer.WrittenSpan.ToArray());
        request.Content.Headers.ContentType = JsonMediaType;
        request.Headers.TryAddWithoutValidation("pubsubName", _definition.PubSubName);
        if (traceparent is not null)
        {
            request.Headers.Remove("traceparent");
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        }
        HttpResponseMessage response;
        try
        {
            response = await _app.SendAsync(request, cancellationToken);
        }
        catch (Exception e)
        {
            StopAll(spans, null, e.Message);
            throw;
        }
        using (response)
        {
            var code = (int)response.StatusCode;
            StopAll(spans, code, null);
            var verdicts = new (DeliveryOutcome, string?)[entries.Count];
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                _log.LogError("non-retriable error returned from app while processing bulk pub/sub event: 404 on /{Path}; {Count} entries dropped", path.TrimStart('/'), entries.Count);
                Array.Fill(verdicts, (DeliveryOutcome.Success, "app returned 404 for the bulk request"));
                return verdicts;
            }
            if (code is < 200 or > 299)
            {
                Array.Fill(verdicts, (DeliveryOutcome.Retry, $"app returned HTTP {code} for the bulk request"));
                return verdicts;
            }
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var statuses = new Dictionary<string, string?>(entries.Count, StringComparer.Ordinal);
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("statuses", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in list.EnumerateArray())
                    {
                        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("entryId", out var id) && id.ValueKind == JsonValueKind.String)
                        {
                            statuses[id.GetString() ?? ""] = item.TryGetProperty("status", out var st) && st.ValueKind == JsonValueKind.String ? st.GetString()?.ToUpperInvariant() : null;
                        }
                    }
                }
            }
            catch (JsonException)
            {
                Array.Fill(verdicts, (DeliveryOutcome.Retry, "failed unmarshalling app response for bulk subscribe"));
                return verdicts;
            }
            for (var i = 0; i < entries.Count; i++)
            {
                verdicts[i] = !statuses.TryGetValue(entries[i].EntryId, out var status)
                    ? (DeliveryOutcome.Retry, "no status for the entry in the app's bulk response")
                    : status switch
                    {
                        "SUCCESS" => (DeliveryOutcome.Success, null),
                        "DROP" => (DeliveryOutcome.Drop, "app requested DROP"),
                        null or "" or "RETRY" => (DeliveryOutcome.Retry, "RETRY status returned from app"),
                        var other => (DeliveryOutcome.Retry, $"unknown status returned from app: {other}"),
                    };
            }
            return verdicts;
        }
    }

    private static void StopAll(List<Activity>? spans, int? httpStatus, string? error)
    {
        foreach (var span in spans ?? [])
        {
            SidecarTracer.Stop(span, httpStatus, error);
        }
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
