using System.Net;
using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using DaprGame.Sidecar.Api;
using DaprGame.Sidecar.Hosting;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.PubSub;

/// <summary>
/// Pub/sub on both surfaces: publish (<c>/v1.0/publish</c>, gRPC <c>PublishEvent</c> and both bulk variants the
/// 1.19 SDK falls back between), and, once the app is up, its subscriptions delivered through the components.
/// </summary>
public sealed class PubSubFeature : ISidecarFeature
{
    private readonly SidecarRuntime _runtime;
    private readonly PubSubApi _api;
    private readonly ILogger _log;
    private readonly List<IAsyncDisposable> _subscriptions = [];

    public PubSubFeature(SidecarRuntime runtime)
    {
        _runtime = runtime;
        _api = new PubSubApi(runtime);
        _log = runtime.Logging.CreateLogger("DaprGame.Sidecar.PubSub");
    }

    public void MapHttp(IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1.0/publish/{pubsub}/{**topic}", PublishHttpAsync);
        routes.MapPost("/v1.0/publish/bulk/{pubsub}/{**topic}", BulkPublishHttpAsync);
        routes.MapPost("/v1.0-alpha1/publish/bulk/{pubsub}/{**topic}", BulkPublishHttpAsync);
    }

    public void MapGrpc(GrpcMethodTable methods)
    {
        methods.AddUnary<PublishEventRequest, Empty>("PublishEvent", PublishGrpcAsync);
        methods.AddUnary<BulkPublishRequest, BulkPublishResponse>("BulkPublishEvent", BulkPublishGrpcAsync);
        methods.AddUnary<BulkPublishRequest, BulkPublishResponse>("BulkPublishEventAlpha1", BulkPublishGrpcAsync);
    }

    /// <summary>Reads the subscriptions (declarative, then the app's) and starts delivering them.</summary>
    public async Task OnAppReadyAsync(CancellationToken cancellationToken)
    {
        if (_runtime.AppChannel is not { } app)
        {
            return;
        }
        var definitions = new List<SubscriptionDefinition>();
        definitions.AddRange(await ReadAppSubscriptionsAsync(app, cancellationToken));
        definitions.AddRange(_runtime.Resources.Subscriptions.Select(SubscriptionDefinition.From));

        var seen = new HashSet<(string, string)>();
        foreach (var definition in definitions)
        {
            if (!_runtime.Components.PubSubs.TryGetValue(definition.PubSubName, out var handle))
            {
                _log.LogError("{Type} subscription to topic '{Topic}' names pubsub '{PubSub}', which is not loaded; the subscription is skipped",
                    definition.Type.ToLowerInvariant(), definition.Topic, definition.PubSubName);
                continue;
            }
            if (string.IsNullOrEmpty(definition.Topic))
            {
                _log.LogError("a {Type} subscription on pubsub '{PubSub}' has no topic; the subscription is skipped", definition.Type.ToLowerInvariant(), definition.PubSubName);
                continue;
            }
            if (!seen.Add((definition.PubSubName, definition.Topic)))
            {
                _log.LogWarning("topic '{Topic}' on pubsub '{PubSub}' is subscribed more than once; the {Type} subscription is skipped",
                    definition.Topic, definition.PubSubName, definition.Type.ToLowerInvariant());
                continue;
            }

            SubscriptionDelivery delivery;
            try
            {
                delivery = new SubscriptionDelivery(definition, handle, _runtime, app, _log);
            }
            catch (FormatException e)
            {
                _log.LogError("subscription to topic '{Topic}' on pubsub '{PubSub}' cannot start: {Error}", definition.Topic, definition.PubSubName, e.Message);
                throw new InvalidOperationException($"subscription to topic '{definition.Topic}' on pubsub '{definition.PubSubName}' cannot start: {e.Message}", e);
            }

            var consumerGroup = handle.Spec.Get("consumerID") is { Length: > 0 } id ? id : _runtime.Options.AppId;
            IAsyncDisposable subscription;
            try
            {
                subscription = await handle.PubSub.SubscribeAsync(
                    new SubscribeRequest(definition.Topic, consumerGroup, _runtime.Options.InstanceId, definition.Bulk?.MaxMessagesCount ?? 0),
                    delivery.HandleAsync, cancellationToken);
            }
            catch
            {
                await delivery.DisposeAsync();
                throw;
            }
            // Disposed in this order: the component stops handing messages over, then the delivery's bulk batcher stops.
            _subscriptions.Add(subscription);
            _subscriptions.Add(delivery);
            _runtime.Subscriptions.Add(new ActiveSubscription(
                definition.PubSubName, definition.Topic, definition.DeadLetterTopic, definition.Rules, definition.DefaultRoute, definition.Metadata, definition.Type));
            _log.LogInformation("app is subscribed to topic '{Topic}' on pubsub '{PubSub}'", definition.Topic, definition.PubSubName);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _subscriptions)
        {
            await s.DisposeAsync();
        }
        _subscriptions.Clear();
    }

    /// <summary>
    /// <c>GET /dapr/subscribe</c>, tried three times with daprd's initialisation backoff; 404 means the app has none.
    /// The SDK answers without a content type, so the body is read as JSON whatever the header says.
    /// </summary>
    private async Task<List<SubscriptionDefinition>> ReadAppSubscriptionsAsync(AppChannel app, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; ; attempt++)
        {
            string error;
            try
            {
                using var request = app.CreateRequest(HttpMethod.Get, "/dapr/subscribe");
                using var response = await app.SendAsync(request, cancellationToken);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return [];
                }
                if (!response.IsSuccessStatusCode)
                {
                    // daprd logs any other status and goes on without programmatic subscriptions.
                    _log.LogError("app returned http status code {Status} from subscription endpoint; no programmatic subscriptions", (int)response.StatusCode);
                    return [];
                }
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                return body.Length == 0 ? [] : SubscriptionDefinition.ParseProgrammatic(body);
            }
            catch (HttpRequestException e)
            {
                error = e.Message;
            }
            catch (JsonException e)
            {
                // An app with a catch-all route may answer /dapr/subscribe with anything: report it and deliver nothing
                // programmatic rather than refuse to start, so the app's other traffic still flows.
                _log.LogError("the app's /dapr/subscribe response is not a valid subscription list ({Error}); no programmatic subscriptions", e.Message);
                return [];
            }
            if (attempt == 3)
            {
                throw new InvalidOperationException($"failed to read the app's subscriptions from /dapr/subscribe: {error}");
            }
            await Task.Delay(delay, _runtime.Time, cancellationToken);
            delay *= 1.5;
        }
    }

    // ---- gRPC ----

    private async Task<Empty> PublishGrpcAsync(PublishEventRequest request, ServerCallContext call)
    {
        var metadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
        await _api.PublishAsync(request.PubsubName, request.Topic, request.Data.Memory, NullIfEmpty(request.DataContentType), metadata,
            call.RequestHeaders.GetValue("traceparent"), call.RequestHeaders.GetValue("tracestate"), call.CancellationToken);
        return new Empty();
    }

    private async Task<BulkPublishResponse> BulkPublishGrpcAsync(BulkPublishRequest request, ServerCallContext call)
    {
        var entries = new List<BulkPublishEntry>(request.Entries.Count);
        foreach (var e in request.Entries)
        {
            entries.Add(new BulkPublishEntry(e.EntryId, e.Event.Memory, NullIfEmpty(e.ContentType), e.Metadata));
        }
        var failed = await _api.BulkPublishAsync(request.PubsubName, request.Topic, entries, new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal),
            call.RequestHeaders.GetValue("traceparent"), call.RequestHeaders.GetValue("tracestate"), call.CancellationToken);
        var response = new BulkPublishResponse();
        foreach (var (id, error) in failed)
        {
            response.FailedEntries.Add(new BulkPublishResponseFailedEntry { EntryId = id, Error = error });
        }
        return response;
    }

    // ---- HTTP ----

    private async Task PublishHttpAsync(HttpContext context, string pubsub, string topic)
    {
        var body = await ReadBodyAsync(context.Request);
        await _api.PublishAsync(pubsub, topic, body, NullIfEmpty(context.Request.ContentType), DaprHttp.QueryMetadata(context.Request),
            context.Request.Headers["traceparent"].ToString() is { Length: > 0 } tp ? tp : null,
            context.Request.Headers["tracestate"].ToString() is { Length: > 0 } ts ? ts : null,
            context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task BulkPublishHttpAsync(HttpContext context, string pubsub, string topic)
    {
        _api.Resolve(pubsub, topic);
        var metadata = DaprHttp.QueryMetadata(context.Request);
        var entries = new List<BulkPublishEntry>();
        using (var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw DaprApiException.BadRequest("ERR_PUBSUB_EVENTS_SER", $"error when unmarshaling the request for topic {topic} pubsub {pubsub}: expected an array of entries");
            }
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                var contentType = e.TryGetProperty("contentType", out var ct) && ct.ValueKind == JsonValueKind.String ? ct.GetString() : null;
                byte[] data = [];
                if (e.TryGetProperty("event", out var ev))
                {
                    // A string event under a non-JSON content type is the text itself; anything else is its JSON.
                    data = ev.ValueKind == JsonValueKind.String && !(contentType ?? "").Contains("json", StringComparison.OrdinalIgnoreCase)
                        ? System.Text.Encoding.UTF8.GetBytes(ev.GetString() ?? "")
                        : System.Text.Encoding.UTF8.GetBytes(ev.GetRawText());
                }
                var entryMetadata = new Dictionary<string, string>(StringComparer.Ordinal);
                if (e.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in m.EnumerateObject())
                    {
                        entryMetadata[p.Name] = p.Value.ToString();
                    }
                }
                var entryId = e.TryGetProperty("entryId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() ?? "" : "";
                entries.Add(new BulkPublishEntry(entryId, data, contentType, entryMetadata));
            }
        }
        var failed = await _api.BulkPublishAsync(pubsub, topic, entries, metadata,
            context.Request.Headers["traceparent"].ToString() is { Length: > 0 } tp ? tp : null,
            context.Request.Headers["tracestate"].ToString() is { Length: > 0 } ts ? ts : null,
            context.RequestAborted);
        if (failed.Count == 0)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            failedEntries = failed.Select(f => new { entryId = f.EntryId, error = f.Error }),
            errorCode = "ERR_PUBSUB_PUBLISH_MESSAGE",
        }, cancellationToken: context.RequestAborted);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream(request.ContentLength is > 0 and < int.MaxValue ? (int)request.ContentLength.Value : 256);
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        return buffer.ToArray();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
