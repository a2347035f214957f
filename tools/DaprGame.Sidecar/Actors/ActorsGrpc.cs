using Dapr.Client.Autogen.Grpc.v1;
using DaprGame.Sidecar.Hosting;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace DaprGame.Sidecar.Actors;

/// <summary>The actor methods of the gRPC API. The .NET SDK 1.19 does not use them; other SDKs and tools do.</summary>
public sealed partial class ActorsFeature
{
    public void MapGrpc(GrpcMethodTable methods)
    {
        methods.AddUnary<InvokeActorRequest, InvokeActorResponse>("InvokeActor", InvokeActorGrpcAsync);
        methods.AddUnary<GetActorStateRequest, GetActorStateResponse>("GetActorState", async (r, call) =>
        {
            var item = await GetStateAsync(r.ActorType, r.ActorId, r.Key, call.CancellationToken);
            var response = new GetActorStateResponse { Data = item is null ? ByteString.Empty : ByteString.CopyFrom(item.Value) };
            foreach (var (k, v) in State.StateApi.ExpiryMetadata(item))
            {
                response.Metadata[k] = v;
            }
            return response;
        });
        methods.AddUnary<ExecuteActorStateTransactionRequest, Empty>("ExecuteActorStateTransaction", async (r, call) =>
        {
            var ops = new List<ActorStateOp>(r.Operations.Count);
            foreach (var op in r.Operations)
            {
                var md = op.Metadata.Count == 0 ? null : new Dictionary<string, string>(op.Metadata);
                ops.Add(op.OperationType switch
                {
                    "upsert" => new ActorStateOp(true, op.Key, op.Value?.Value.ToByteArray(), md),
                    "delete" => new ActorStateOp(false, op.Key, null, md),
                    _ => throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", $"operation type {op.OperationType} not supported"),
                });
            }
            await TransactAsync(r.ActorType, r.ActorId, ops, call.CancellationToken);
            return new Empty();
        });
        methods.AddUnary<RegisterActorTimerRequest, Empty>("RegisterActorTimer", (r, _) =>
        {
            RegisterTimer(r.ActorType, r.ActorId, r.Name, r.DueTime, r.Period, r.Ttl, DataAsJson(r.Data), r.Callback);
            return Task.FromResult(new Empty());
        });
        methods.AddUnary<UnregisterActorTimerRequest, Empty>("UnregisterActorTimer", (r, _) =>
        {
            UnregisterTimer(r.ActorType, r.ActorId, r.Name);
            return Task.FromResult(new Empty());
        });
        methods.AddUnary<RegisterActorReminderRequest, Empty>("RegisterActorReminder", async (r, call) =>
        {
            if (r.HasOverwrite && !r.Overwrite && await Reminders().GetAsync(r.ActorType, r.ActorId, r.Name, call.CancellationToken) is not null)
            {
                throw new DaprApiException("ERR_ACTOR_REMINDER_ALREADY_EXISTS", $"reminder {r.Name} already exists", System.Net.HttpStatusCode.Conflict, StatusCode.AlreadyExists);
            }
            await RegisterReminderAsync(r.ActorType, r.ActorId, r.Name, r.DueTime, r.Period, r.Ttl, DataAsJson(r.Data), call.CancellationToken);
            return new Empty();
        });
        methods.AddUnary<GetActorReminderRequest, GetActorReminderResponse>("GetActorReminder", async (r, call) =>
        {
            var reminder = await GetReminderAsync(r.ActorType, r.ActorId, r.Name, call.CancellationToken);
            var response = new GetActorReminderResponse { ActorType = reminder.ActorType, ActorId = reminder.ActorId };
            if (reminder.DueTime is { } due)
            {
                response.DueTime = due;
            }
            if (reminder.Period is { } period)
            {
                response.Period = period;
            }
            if (reminder.Ttl is { } ttl)
            {
                response.Ttl = ttl;
            }
            if (reminder.Data is { } data)
            {
                response.Data = new Any { Value = ByteString.CopyFrom(DataFromJson(data)) };
            }
            return response;
        });
        methods.AddUnary<UnregisterActorReminderRequest, Empty>("UnregisterActorReminder", async (r, call) =>
        {
            await UnregisterReminderAsync(r.ActorType, r.ActorId, r.Name, call.CancellationToken);
            return new Empty();
        });
    }

    /// <summary>gRPC carries reminder and timer data as bytes; callbacks carry it as a base64 JSON string, as the SDKs expect.</summary>
    private static string? DataAsJson(ByteString data) =>
        data.IsEmpty ? null : System.Text.Json.JsonSerializer.Serialize(data.ToBase64());

    /// <summary>The inverse of <see cref="DataAsJson"/>: a base64 JSON string gives its bytes, any other JSON its UTF-8 text.</summary>
    private static byte[] DataFromJson(string json)
    {
        if (json.Length > 1 && json[0] == '"')
        {
            var text = System.Text.Json.JsonSerializer.Deserialize<string>(json) ?? "";
            var buffer = new byte[text.Length];
            if (Convert.TryFromBase64String(text, buffer, out var written))
            {
                return buffer[..written];
            }
        }
        return System.Text.Encoding.UTF8.GetBytes(json);
    }

    private async Task<InvokeActorResponse> InvokeActorGrpcAsync(InvokeActorRequest r, ServerCallContext call)
    {
        var headers = new HeaderDictionary();
        foreach (var (k, v) in r.Metadata)
        {
            headers[k] = v;
        }
        foreach (var entry in call.RequestHeaders)
        {
            if (!entry.IsBinary && entry.Key.Equals("dapr-reentrancy-id", StringComparison.OrdinalIgnoreCase))
            {
                headers["Dapr-Reentrancy-Id"] = entry.Value;
            }
        }
        var result = await RouteAsync(new ActorRequest(r.ActorType, r.ActorId, "method/" + Uri.EscapeDataString(r.Method))
        {
            Body = r.Data.Memory,
            ContentType = "application/json",
            Headers = headers,
        }, call.CancellationToken);
        if (result.Error is { } error)
        {
            throw error;
        }
        if (result.Status != 200 && result.Header("X-DaprErrorResponseHeader") is null)
        {
            throw MethodFailed(result);
        }
        return new InvokeActorResponse { Data = ByteString.CopyFrom(result.Body) };
    }
}
