using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Tracing;
using Grpc.Core;

namespace DaprGame.Sidecar.PubSub;

/// <summary>One entry of a bulk publish, as both API surfaces receive it.</summary>
internal sealed record BulkPublishEntry(string EntryId, ReadOnlyMemory<byte> Event, string? ContentType, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The publish side of the pub/sub API, shared by HTTP and gRPC: daprd's validation order and error codes, the
/// CloudEvent envelope (or none with <c>rawPayload</c>), then the component.
/// </summary>
internal sealed class PubSubApi(SidecarRuntime runtime)
{
    /// <summary>daprd's checks, in its order: any pubsub configured, name given, name known, topic given.</summary>
    public PubSubHandle Resolve(string pubsubName, string topic)
    {
        if (runtime.Components.PubSubs.Count == 0)
        {
            throw new DaprApiException("ERR_PUBSUB_NOT_CONFIGURED", $"pubsub {pubsubName} is not configured", HttpStatusCode.BadRequest, StatusCode.FailedPrecondition);
        }
        if (string.IsNullOrEmpty(pubsubName))
        {
            throw new DaprApiException("ERR_PUBSUB_EMPTY", "pubsub name is empty", HttpStatusCode.NotFound, StatusCode.InvalidArgument);
        }
        if (!runtime.Components.PubSubs.TryGetValue(pubsubName, out var handle))
        {
            throw new DaprApiException("ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsubName} is not found", HttpStatusCode.NotFound, StatusCode.InvalidArgument);
        }
        if (string.IsNullOrEmpty(topic))
        {
            throw new DaprApiException("ERR_TOPIC_NAME_EMPTY", $"topic is empty in pubsub {pubsubName}", HttpStatusCode.NotFound, StatusCode.InvalidArgument);
        }
        return handle;
    }

    public async Task PublishAsync(
        string pubsubName, string topic, ReadOnlyMemory<byte> data, string? contentType, Dictionary<string, string> metadata,
        string? traceParent, string? traceState, CancellationToken cancellationToken)
    {
        var handle = Resolve(pubsubName, topic);
        var span = StartSpan(pubsubName, topic, traceParent);
        var message = Envelope(handle, topic, data, contentType, metadata, metadata, span is null ? TraceContext.ChildOf(traceParent) : SidecarTracer.TraceparentOf(span), traceState ?? "");
        string? error = null;
        try
        {
            await PublishOneAsync(handle, message, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException and not DaprApiException)
        {
            error = e.Message;
            throw PublishFailed(pubsubName, topic, e);
        }
        finally
        {
            SidecarTracer.Stop(span, error: error);
        }
    }

    /// <summary>The producer span of a publish; null when tracing records nothing.</summary>
    private Activity? StartSpan(string pubsubName, string topic, string? traceParent)
    {
        var span = runtime.Tracer?.Start($"publish/{pubsubName}/{topic}", ActivityKind.Producer, traceParent);
        span?.SetTag("dapr.api", "publish");
        span?.SetTag("messaging.system", "pubsub");
        span?.SetTag("messaging.destination.name", topic);
        return span;
    }

    /// <summary>One message to the component, under the pubsub's outbound resiliency policies when any apply.</summary>
    private Task PublishOneAsync(PubSubHandle handle, PubSubMessage message, CancellationToken cancellationToken) =>
        runtime.Resiliency.ForComponentOutbound(handle.Spec.Name, "Pubsub") is { } policies
            ? policies.ExecuteAsync(ct => handle.PubSub.PublishAsync(message, ct), cancellationToken: cancellationToken)
            : handle.PubSub.PublishAsync(message, cancellationToken);

    /// <summary>
    /// Bulk publish as daprd does it for components without native bulk support: every entry is enveloped and
    /// published on its own; the ones that fail come back as failed entries, and the call itself succeeds.
    /// </summary>
    public async Task<List<(string EntryId, string Error)>> BulkPublishAsync(
        string pubsubName, string topic, IReadOnlyList<BulkPublishEntry> entries, Dictionary<string, string> metadata,
        string? traceParent, string? traceState, CancellationToken cancellationToken)
    {
        var handle = Resolve(pubsubName, topic);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.EntryId.Length == 0 || !ids.Add(entry.EntryId))
            {
                throw DaprApiException.BadRequest("ERR_PUBSUB_EVENTS_SER",
                    $"error when marshalling cloud event envelope for topic {topic} pubsub {pubsubName}: entryId is duplicated or not present for entry");
            }
        }
        var span = StartSpan(pubsubName, topic, traceParent);
        var trace = span is null ? TraceContext.ChildOf(traceParent) : SidecarTracer.TraceparentOf(span);
        var messages = new PubSubMessage[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            // Entry metadata drives the envelope (cloudevent.* overrides); request metadata decides rawPayload.
            var merged = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
            foreach (var (k, v) in entry.Metadata)
            {
                merged[k] = v;
            }
            messages[i] = Envelope(handle, topic, entry.Event, entry.ContentType, metadata, merged, trace, traceState ?? "");
        }
        var failed = new List<(string, string)>();
        var tasks = new Task[messages.Length];
        for (var i = 0; i < messages.Length; i++)
        {
            tasks[i] = PublishOneAsync(handle, messages[i], cancellationToken);
        }
        for (var i = 0; i < tasks.Length; i++)
        {
            try
            {
                await tasks[i];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed.Add((entries[i].EntryId, e.Message));
            }
        }
        SidecarTracer.Stop(span, error: failed.Count > 0 ? $"{failed.Count} entries failed" : null);
        return failed;
    }

    private PubSubMessage Envelope(
        PubSubHandle handle, string topic, ReadOnlyMemory<byte> data, string? contentType,
        IReadOnlyDictionary<string, string> requestMetadata, Dictionary<string, string> metadata, string traceParent, string traceState)
    {
        if (CloudEvents.IsTruthy(CloudEvents.Get(requestMetadata, "rawPayload")))
        {
            // No envelope: the bytes go as they are and the trace context travels in the message metadata.
            var withTrace = new Dictionary<string, string>(metadata, StringComparer.Ordinal) { ["traceparent"] = traceParent };
            if (traceState.Length > 0)
            {
                withTrace["tracestate"] = traceState;
            }
            return new PubSubMessage(topic, data.ToArray(), contentType, withTrace);
        }
        byte[] envelope;
        try
        {
            envelope = CloudEvents.Build(new CloudEvents.Input(
                handle.Spec.Name, topic, data, contentType, metadata, runtime.Options.AppId, traceParent, traceState, runtime.Time.GetLocalNow()));
        }
        catch (FormatException e)
        {
            throw DaprApiException.BadRequest("ERR_PUBSUB_REQUEST_METADATA", $"failed deserializing metadata. Error: {e.Message}");
        }
        catch (System.Text.Json.JsonException)
        {
            throw new DaprApiException("ERR_PUBSUB_CLOUD_EVENTS_SER", "cannot create cloudevent", HttpStatusCode.InternalServerError, StatusCode.InvalidArgument);
        }
        return new PubSubMessage(topic, envelope, CloudEvents.ContentType, metadata);
    }

    private static DaprApiException PublishFailed(string pubsubName, string topic, Exception e) =>
        DaprApiException.Internal("ERR_PUBSUB_PUBLISH_MESSAGE", $"error when publishing to topic {topic} in pubsub {pubsubName}: {e.Message}", e);
}

/// <summary>W3C trace context for the publish span: a child of the caller's <c>traceparent</c>, or a new trace.</summary>
internal static class TraceContext
{
    public static string ChildOf(string? parent)
    {
        Span<byte> span = stackalloc byte[8];
        RandomNumberGenerator.Fill(span);
        var spanId = Convert.ToHexStringLower(span);
        if (parent is { Length: 55 } p && p[2] == '-' && p[35] == '-' && p[52] == '-' && p.StartsWith("00-", StringComparison.Ordinal))
        {
            return string.Concat(p.AsSpan(0, 36), spanId, p.AsSpan(52));
        }
        Span<byte> trace = stackalloc byte[16];
        RandomNumberGenerator.Fill(trace);
        // Without a caller context daprd starts an unsampled trace unless tracing is configured.
        return $"00-{Convert.ToHexStringLower(trace)}-{spanId}-00";
    }
}
