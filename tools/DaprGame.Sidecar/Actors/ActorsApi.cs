using System.Net;
using System.Text;
using System.Text.Json;
using DaprGame.Sidecar.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DaprGame.Sidecar.Actors;

/// <summary>The actor HTTP API on the Dapr HTTP port (shared/dapr-contract.md §2.1).</summary>
public sealed partial class ActorsFeature
{
    private const string Base = "/v1.0/actors/{type}/{id}";

    public void MapHttp(IEndpointRouteBuilder routes)
    {
        routes.Map(Base + "/method/{**method}", InvokeHttpAsync);
        routes.MapGet(Base + "/state/{key}", GetStateHttpAsync);
        routes.MapMethods(Base + "/state", ["PUT", "POST"], TransactHttpAsync);
        routes.MapMethods(Base + "/reminders/{name}", ["PUT", "POST"], RegisterReminderHttpAsync);
        routes.MapGet(Base + "/reminders/{name}", GetReminderHttpAsync);
        routes.MapDelete(Base + "/reminders/{name}", UnregisterReminderHttpAsync);
        routes.MapMethods(Base + "/timers/{name}", ["PUT", "POST"], RegisterTimerHttpAsync);
        routes.MapDelete(Base + "/timers/{name}", UnregisterTimerHttpAsync);
        routes.Map(InternalPrefix + "/{type}/{id}/{**path}", ServePeerAsync);
    }

    private static (string Type, string Id) Actor(HttpContext context) =>
        ((string)context.Request.RouteValues["type"]!, (string)context.Request.RouteValues["id"]!);

    private async Task InvokeHttpAsync(HttpContext context)
    {
        var (type, id) = Actor(context);
        var request = new ActorRequest(type, id, "method/" + (string)context.Request.RouteValues["method"]!)
        {
            Body = await ReadBodyAsync(context.Request, context.RequestAborted),
            ContentType = context.Request.ContentType,
            Headers = context.Request.Headers,
        };
        var result = await RouteAsync(request, context.RequestAborted);
        if (result.Error is { } error)
        {
            throw error;
        }
        if (result.Status == 200 || result.Header("X-DaprErrorResponseHeader") is not null)
        {
            await WriteRawAsync(context, result);
            return;
        }
        throw MethodFailed(result);
    }

    private static DaprApiException MethodFailed(ActorResult result) =>
        DaprApiException.Internal("ERR_ACTOR_INVOKE_METHOD",
            $"error invoke actor method: error from actor service: ({result.Status}) {Encoding.UTF8.GetString(result.Body)}");

    private static async Task WriteRawAsync(HttpContext context, ActorResult result)
    {
        context.Response.StatusCode = result.Status;
        foreach (var (k, v) in result.Headers)
        {
            context.Response.Headers[k] = v;
        }
        if (result.Body.Length > 0)
        {
            await context.Response.Body.WriteAsync(result.Body, context.RequestAborted);
        }
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length)
        {
            if (length == 0)
            {
                return ReadOnlyMemory<byte>.Empty;
            }
            var buffer = new byte[length];
            await request.Body.ReadExactlyAsync(buffer, cancellationToken);
            return buffer;
        }
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy, cancellationToken);
        return copy.ToArray();
    }

    // ---- state ----

    private IStateStore ActorStore() =>
        _runtime.Components.ActorStateStore?.Store
        ?? throw DaprApiException.Internal("ERR_ACTOR_RUNTIME_NOT_FOUND", "the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: \"true\" in your state store component file?");

    private string StateKey(string type, string id, string key) => $"{AppId}||{type}||{id}||{key}";

    private void RequireActive(string type, string id)
    {
        if (!_active.ContainsKey(ActorKey(type, id)))
        {
            throw DaprApiException.BadRequest("ERR_ACTOR_INSTANCE_MISSING", "actor instance is missing");
        }
    }

    /// <summary>Reads one actor state key (also the gRPC GetActorState path).</summary>
    internal async Task<StateItem?> GetStateAsync(string type, string id, string key, CancellationToken cancellationToken)
    {
        var store = ActorStore();
        RequireActive(type, id);
        try
        {
            return await store.GetAsync(StateKey(type, id, key), cancellationToken);
        }
        catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
        {
            throw DaprApiException.Internal("ERR_ACTOR_STATE_GET", $"error getting actor state: {e.Message}", e);
        }
    }

    private async Task GetStateHttpAsync(HttpContext context)
    {
        var (type, id) = Actor(context);
        var item = await GetStateAsync(type, id, (string)context.Request.RouteValues["key"]!, context.RequestAborted);
        if (item is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        if (item.ExpiresAt is { } exp)
        {
            context.Response.Headers["metadata.ttlExpireTime"] = exp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(item.Value, context.RequestAborted);
    }

    /// <summary>One operation of an actor state transaction, before key prefixing.</summary>
    internal readonly record struct ActorStateOp(bool Upsert, string Key, byte[]? Value, IReadOnlyDictionary<string, string>? Metadata);

    /// <summary>Runs an actor state transaction (also the gRPC path): <c>ttlInSeconds</c> needs the <c>ActorStateTTL</c> feature.</summary>
    internal async Task TransactAsync(string type, string id, IReadOnlyList<ActorStateOp> ops, CancellationToken cancellationToken)
    {
        var store = ActorStore();
        RequireActive(type, id);
        var ttlEnabled = _runtime.Resources.Configuration.Features.GetValueOrDefault("ActorStateTTL");
        var prepared = new List<StateOperation>(ops.Count);
        foreach (var op in ops)
        {
            if (string.IsNullOrEmpty(op.Key))
            {
                throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", "actor state key cannot be empty");
            }
            var key = StateKey(type, id, op.Key);
            if (!op.Upsert)
            {
                prepared.Add(new StateOperation(null, new StateDelete(key, null, Concurrency.Unspecified)));
                continue;
            }
            TimeSpan? ttl = null;
            if (op.Metadata is { } md && md.ContainsKey("ttlInSeconds"))
            {
                if (!ttlEnabled)
                {
                    throw DaprApiException.Internal("ERR_ACTOR_STATE_TRANSACTION_SAVE", "error saving actor transaction state: ttlInSeconds is not supported without the \"ActorStateTTL\" feature enabled");
                }
                ttl = StateApi.ParseTtl(md);
            }
            prepared.Add(new StateOperation(new StateSet(key, op.Value ?? "null"u8.ToArray(), null, Concurrency.Unspecified, ttl, IsBinary: false), null));
        }
        try
        {
            await store.ExecuteTransactionAsync(prepared, cancellationToken);
        }
        catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
        {
            throw DaprApiException.Internal("ERR_ACTOR_STATE_TRANSACTION_SAVE", $"error saving actor transaction state: {e.Message}", e);
        }
    }

    private async Task TransactHttpAsync(HttpContext context)
    {
        var (type, id) = Actor(context);
        var body = await ReadBodyAsync(context.Request, context.RequestAborted);
        var ops = new List<ActorStateOp>();
        try
        {
            using var doc = JsonDocument.Parse(body);
            foreach (var op in doc.RootElement.EnumerateArray())
            {
                var kind = op.GetProperty("operation").GetString();
                var req = op.GetProperty("request");
                var key = req.TryGetProperty("key", out var k) ? k.GetString() ?? "" : "";
                Dictionary<string, string>? md = null;
                if (req.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object)
                {
                    md = [];
                    foreach (var p in m.EnumerateObject())
                    {
                        md[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                    }
                }
                ops.Add(kind switch
                {
                    "upsert" => new ActorStateOp(true, key, req.TryGetProperty("value", out var v) ? Encoding.UTF8.GetBytes(v.GetRawText()) : null, md),
                    "delete" => new ActorStateOp(false, key, null, md),
                    _ => throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", $"operation type {kind} not supported"),
                });
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", $"failed deserializing HTTP body: {e.Message}");
        }
        await TransactAsync(type, id, ops, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    // ---- reminders and timers over HTTP ----

    private sealed record ScheduleBody(string? DueTime, string? Period, string? Ttl, string? Data, string? Callback);

    private static async Task<ScheduleBody> ReadScheduleAsync(HttpRequest request)
    {
        var body = await ReadBodyAsync(request, request.HttpContext.RequestAborted);
        if (body.IsEmpty)
        {
            return new ScheduleBody(null, null, null, null, null);
        }
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            string? Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var data = root.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null ? d.GetRawText() : null;
            return new ScheduleBody(Str("dueTime"), Str("period"), Str("ttl"), data, Str("callback"));
        }
        catch (JsonException e)
        {
            throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", $"failed deserializing HTTP body: {e.Message}");
        }
    }

    private async Task RegisterReminderHttpAsync(HttpContext context)
    {
        var (type, id) = Actor(context);
        var b = await ReadScheduleAsync(context.Request);
        await RegisterReminderAsync(type, id, (string)context.Request.RouteValues["name"]!, b.DueTime, b.Period, b.Ttl, b.Data, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task GetReminderHttpAsync(HttpContext context)
    {
        var (type, id) = Actor(context);
        var r = await GetReminderAsync(type, id, (string)context.Request.RouteValues["name"]!, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(context.Response.Body);
        w.WriteStartObject();
        w.WriteString("actorID", r.ActorId);
        w.WriteString("actorType", r.ActorType);
        if (r.Data is { } data)
        {
            w.WritePropertyName("data");
            w.WriteRawValue(data, skipInputValidation: true);
        }
        w.WriteString("dueTime", r.DueTime ?? "");
        w.WriteString("period", r.Period ?? "");
        if (r.Ttl is { Length: > 0 } ttl)
        {
            w.WriteString("ttl", ttl);
        }
        w.WriteEndObject();
        await w.FlushAsync(context.RequestAborted);
    }

    private async Task UnregisterReminderHttpAsync(HttpContext context)
    {
        var (type, id) = Actor(context);
        await UnregisterReminderAsync(type, id, (string)context.Request.RouteValues["name"]!, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task RegisterTimerHttpAsync(HttpContext context)
    {
        var (type, id) = Actor(context);
        var b = await ReadScheduleAsync(context.Request);
        RegisterTimer(type, id, (string)context.Request.RouteValues["name"]!, b.DueTime, b.Period, b.Ttl, b.Data, b.Callback ?? "");
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private Task UnregisterTimerHttpAsync(HttpContext context)
    {
        var (type, id) = Actor(context);
        UnregisterTimer(type, id, (string)context.Request.RouteValues["name"]!);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static string CallbackBody(string? callback, string? data, string? dueTime, string? period)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (callback is not null)
            {
                w.WriteString("callback", callback);
            }
            if (data is not null)
            {
                w.WritePropertyName("data");
                w.WriteRawValue(data, skipInputValidation: true);
            }
            w.WriteString("dueTime", dueTime ?? "");
            w.WriteString("period", period ?? "");
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static DaprApiException ScheduleError(string code, string message, HttpStatusCode status = HttpStatusCode.InternalServerError) =>
        new(code, message, status, Grpc.Core.StatusCode.Internal);
}
