using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using DaprGame.Sidecar.Hosting;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DaprGame.Sidecar.State;

/// <summary>The state API on both surfaces: <c>/v1.0/state/…</c> and the gRPC state methods.</summary>
public sealed class StateFeature(StateApi api) : ISidecarFeature
{
    public void MapHttp(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1.0/state/{store}/{key}", GetHttpAsync);
        routes.MapPost("/v1.0/state/{store}", SaveHttpAsync);
        routes.MapPut("/v1.0/state/{store}", SaveHttpAsync);
        routes.MapDelete("/v1.0/state/{store}/{key}", DeleteHttpAsync);
        routes.MapPost("/v1.0/state/{store}/bulk", BulkHttpAsync);
        routes.MapPut("/v1.0/state/{store}/bulk", BulkHttpAsync);
        routes.MapPost("/v1.0/state/{store}/transaction", TransactionHttpAsync);
        routes.MapPut("/v1.0/state/{store}/transaction", TransactionHttpAsync);
    }

    public void MapGrpc(GrpcMethodTable methods)
    {
        methods.AddUnary<GetStateRequest, GetStateResponse>("GetState", GetStateAsync);
        methods.AddUnary<GetBulkStateRequest, GetBulkStateResponse>("GetBulkState", GetBulkStateAsync);
        methods.AddUnary<SaveStateRequest, Empty>("SaveState", SaveStateAsync);
        methods.AddUnary<DeleteStateRequest, Empty>("DeleteState", DeleteStateAsync);
        methods.AddUnary<DeleteBulkStateRequest, Empty>("DeleteBulkState", DeleteBulkStateAsync);
        methods.AddUnary<ExecuteStateTransactionRequest, Empty>("ExecuteStateTransaction", TransactAsync);
    }

    public Task OnAppReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // ---- gRPC ----

    private async Task<GetStateResponse> GetStateAsync(GetStateRequest request, Grpc.Core.ServerCallContext call)
    {
        var item = await api.GetAsync(request.StoreName, request.Key, call.CancellationToken);
        var response = new GetStateResponse();
        if (item is not null)
        {
            response.Data = ByteString.CopyFrom(item.Value);
            response.Etag = item.ETag;
            foreach (var (k, v) in StateApi.ExpiryMetadata(item))
            {
                response.Metadata[k] = v;
            }
        }
        return response;
    }

    private async Task<GetBulkStateResponse> GetBulkStateAsync(GetBulkStateRequest request, Grpc.Core.ServerCallContext call)
    {
        var results = await api.GetBulkAsync(request.StoreName, [.. request.Keys], request.Parallelism, call.CancellationToken);
        var response = new GetBulkStateResponse();
        foreach (var r in results)
        {
            var item = new BulkStateItem { Key = r.Key, Etag = r.ETag ?? "", Error = r.Error ?? "" };
            if (r.Data is not null)
            {
                item.Data = ByteString.CopyFrom(r.Data);
            }
            foreach (var (k, v) in r.Metadata)
            {
                item.Metadata[k] = v;
            }
            response.Items.Add(item);
        }
        return response;
    }

    private async Task<Empty> SaveStateAsync(SaveStateRequest request, Grpc.Core.ServerCallContext call)
    {
        await api.SaveAsync(request.StoreName, [.. request.States.Select(FromGrpc)], call.CancellationToken);
        return new Empty();
    }

    private async Task<Empty> DeleteStateAsync(DeleteStateRequest request, Grpc.Core.ServerCallContext call)
    {
        await api.DeleteAsync(request.StoreName, new StateDelete(request.Key, request.Etag?.Value, FromGrpc(request.Options)), call.CancellationToken);
        return new Empty();
    }

    private async Task<Empty> DeleteBulkStateAsync(DeleteBulkStateRequest request, Grpc.Core.ServerCallContext call)
    {
        await api.DeleteBulkAsync(request.StoreName, [.. request.States.Select(s => new StateDelete(s.Key, s.Etag?.Value, FromGrpc(s.Options)))], call.CancellationToken);
        return new Empty();
    }

    private async Task<Empty> TransactAsync(ExecuteStateTransactionRequest request, Grpc.Core.ServerCallContext call)
    {
        var operations = new List<StateOperation>(request.Operations.Count);
        foreach (var op in request.Operations)
        {
            operations.Add(op.OperationType switch
            {
                "upsert" => new StateOperation(FromGrpc(op.Request), null),
                "delete" => new StateOperation(null, new StateDelete(op.Request.Key, op.Request.Etag?.Value, FromGrpc(op.Request.Options))),
                var other => throw new DaprApiException("ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {other} not supported", System.Net.HttpStatusCode.BadRequest, Grpc.Core.StatusCode.Unimplemented),
            });
        }
        await api.TransactAsync(request.StoreName, operations, call.CancellationToken);
        return new Empty();
    }

    private static StateSet FromGrpc(Dapr.Client.Autogen.Grpc.v1.StateItem item)
    {
        var metadata = item.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var isJson = metadata.TryGetValue("contentType", out var ct) && ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);
        return new StateSet(item.Key, item.Value.ToByteArray(), item.Etag?.Value, FromGrpc(item.Options), StateApi.ParseTtl(metadata), IsBinary: !isJson);
    }

    private static Concurrency FromGrpc(StateOptions? options) =>
        options?.Concurrency switch
        {
            StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite => Concurrency.FirstWrite,
            StateOptions.Types.StateConcurrency.ConcurrencyLastWrite => Concurrency.LastWrite,
            _ => Concurrency.Unspecified,
        };

    // ---- HTTP ----

    private async Task GetHttpAsync(HttpContext context, string store, string key)
    {
        var item = await api.GetAsync(store, key, context.RequestAborted);
        if (item is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.ETag = item.ETag;
        foreach (var (k, v) in StateApi.ExpiryMetadata(item))
        {
            context.Response.Headers[$"metadata.{k}"] = v;
        }
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(item.Value, context.RequestAborted);
    }

    private async Task SaveHttpAsync(HttpContext context, string store)
    {
        using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", "failed deserializing HTTP body: expected an array of state items");
        }
        var items = doc.RootElement.EnumerateArray().Select(FromJson).ToList();
        await api.SaveAsync(store, items, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task DeleteHttpAsync(HttpContext context, string store, string key)
    {
        var etag = context.Request.Headers.IfMatch.ToString();
        var concurrency = ConcurrencyOf(context.Request.Query["concurrency"].ToString());
        await api.DeleteAsync(store, new StateDelete(key, etag.Length == 0 ? null : etag, concurrency), context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task BulkHttpAsync(HttpContext context, string store)
    {
        using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var keys = doc.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString() ?? "").ToList();
        var parallelism = doc.RootElement.TryGetProperty("parallelism", out var p) && p.TryGetInt32(out var n) ? n : 10;
        var results = await api.GetBulkAsync(store, keys, parallelism, context.RequestAborted);
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartArray();
        foreach (var r in results)
        {
            writer.WriteStartObject();
            writer.WriteString("key", r.Key);
            if (r.Data is not null)
            {
                writer.WritePropertyName("data");
                WriteValue(writer, r.Data);
                writer.WriteString("etag", r.ETag);
            }
            if (r.Error is not null)
            {
                writer.WriteString("error", r.Error);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private async Task TransactionHttpAsync(HttpContext context, string store)
    {
        using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var operations = new List<StateOperation>();
        foreach (var op in doc.RootElement.GetProperty("operations").EnumerateArray())
        {
            var kind = op.GetProperty("operation").GetString();
            var request = op.GetProperty("request");
            operations.Add(kind switch
            {
                "upsert" => new StateOperation(FromJson(request), null),
                "delete" => new StateOperation(null, new StateDelete(
                    request.GetProperty("key").GetString() ?? "",
                    request.TryGetProperty("etag", out var e) ? e.GetString() : null,
                    ConcurrencyOf(request))),
                _ => throw new DaprApiException("ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {kind} not supported", System.Net.HttpStatusCode.BadRequest, Grpc.Core.StatusCode.Unimplemented),
            });
        }
        await api.TransactAsync(store, operations, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static StateSet FromJson(JsonElement e)
    {
        var key = e.TryGetProperty("key", out var k) ? k.GetString() ?? "" : "";
        var value = e.TryGetProperty("value", out var v) ? JsonSerializer.SerializeToUtf8Bytes(v) : "null"u8.ToArray();
        var etag = e.TryGetProperty("etag", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        Dictionary<string, string>? metadata = null;
        if (e.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object)
        {
            metadata = m.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal);
        }
        return new StateSet(key, value, etag, ConcurrencyOf(e), StateApi.ParseTtl(metadata), IsBinary: false);
    }

    private static Concurrency ConcurrencyOf(JsonElement e) =>
        e.TryGetProperty("options", out var o) && o.ValueKind == JsonValueKind.Object && o.TryGetProperty("concurrency", out var c)
            ? ConcurrencyOf(c.GetString())
            : Concurrency.Unspecified;

    private static Concurrency ConcurrencyOf(string? value) => value switch
    {
        "first-write" => Concurrency.FirstWrite,
        "last-write" => Concurrency.LastWrite,
        _ => Concurrency.Unspecified,
    };

    /// <summary>Writes stored bytes as a JSON value when they are JSON, else as a JSON string.</summary>
    private static void WriteValue(Utf8JsonWriter writer, byte[] data)
    {
        try
        {
            using var parsed = JsonDocument.Parse(data);
            parsed.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            writer.WriteStringValue(System.Text.Encoding.UTF8.GetString(data));
        }
    }
}
