using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using DaprGame.Sidecar.Hosting;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DaprGame.Sidecar.Api;

/// <summary>Health, metadata and shutdown: <c>/v1.0/healthz</c>, <c>/v1.0/healthz/outbound</c>, <c>/v1.0/metadata</c>, <c>/v1.0/shutdown</c>.</summary>
public sealed class CoreFeature(SidecarRuntime runtime) : ISidecarFeature
{
    /// <summary>The runtime version this sidecar reports; it mirrors the Dapr release the SDK was checked against.</summary>
    public const string RuntimeVersion = "1.19.0-daprgame";

    public void MapHttp(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1.0/healthz", async context =>
        {
            if (context.Request.Query["appid"] is { Count: > 0 } appId && appId.ToString() != runtime.Options.AppId)
            {
                await DaprHttp.WriteErrorAsync(context, 500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match");
                return;
            }
            if (!runtime.IsReady)
            {
                await DaprHttp.WriteErrorAsync(context, 500, "ERR_HEALTH_NOT_READY", "dapr is not ready: app channel not initialized");
                return;
            }
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        // Outbound health is up as soon as components are loaded and the API listens: before the app channel.
        routes.MapGet("/v1.0/healthz/outbound", context =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        routes.MapGet("/v1.0/metadata", WriteMetadataAsync);
        routes.MapPost("/v1.0/shutdown", context =>
        {
            runtime.Stopping.Cancel();
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
    }

    public void MapGrpc(GrpcMethodTable methods)
    {
        methods.AddUnary<GetMetadataRequest, GetMetadataResponse>("GetMetadata", (_, _) => Task.FromResult(BuildMetadata()));
        methods.AddUnary<ShutdownRequest, Empty>("Shutdown", (_, _) =>
        {
            runtime.Stopping.Cancel();
            return Task.FromResult(new Empty());
        });
    }

    public Task OnAppReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private GetMetadataResponse BuildMetadata()
    {
        var response = new GetMetadataResponse
        {
            Id = runtime.Options.AppId,
            RuntimeVersion = RuntimeVersion,
            ActorRuntime = new ActorRuntime { RuntimeStatus = ActorRuntime.Types.ActorRuntimeStatus.Disabled },
        };
        if (runtime.ActiveActors is { } active)
        {
            response.ActorRuntime = new ActorRuntime { RuntimeStatus = ActorRuntime.Types.ActorRuntimeStatus.Running, HostReady = true, Placement = "placement: connected" };
            foreach (var (type, count) in active())
            {
                response.ActorRuntime.ActiveActors.Add(new ActiveActorsCount { Type = type, Count = count });
            }
        }
        foreach (var c in runtime.Components.All)
        {
            var reg = new RegisteredComponents { Name = c.Name, Type = c.Type, Version = c.Version };
            reg.Capabilities.Add(Capabilities(c.Name));
            response.RegisteredComponents.Add(reg);
        }
        foreach (var s in runtime.Subscriptions)
        {
            var sub = new PubsubSubscription { PubsubName = s.PubSubName, Topic = s.Topic, DeadLetterTopic = s.DeadLetterTopic ?? "", Rules = new PubsubSubscriptionRules() };
            foreach (var (k, v) in s.Metadata)
            {
                sub.Metadata[k] = v;
            }
            foreach (var r in s.Rules)
            {
                sub.Rules.Rules.Add(new PubsubSubscriptionRule { Match = r.Match, Path = r.Path });
            }
            if (s.DefaultRoute is { } d)
            {
                sub.Rules.Rules.Add(new PubsubSubscriptionRule { Path = d });
            }
            response.Subscriptions.Add(sub);
        }
        if (runtime.Options.AppPort is { } port)
        {
            response.AppConnectionProperties = new AppConnectionProperties
            {
                Port = port,
                Protocol = runtime.Options.AppProtocol,
                ChannelAddress = runtime.Options.AppChannelAddress,
            };
        }
        return response;
    }

    private IEnumerable<string> Capabilities(string name)
    {
        if (runtime.Components.StateStores.TryGetValue(name, out var state))
        {
            return state.IsActorStateStore ? state.Store.Features.Append("ACTOR") : state.Store.Features;
        }
        return runtime.Components.PubSubs.TryGetValue(name, out var pubsub) ? pubsub.PubSub.Features : [];
    }

    private async Task WriteMetadataAsync(HttpContext context)
    {
        var m = BuildMetadata();
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            id = m.Id,
            runtimeVersion = m.RuntimeVersion,
            enabledFeatures = runtime.Resources.Configuration.Features.Where(f => f.Value).Select(f => f.Key).ToArray(),
            actors = m.ActorRuntime.ActiveActors.Select(a => new { type = a.Type, count = a.Count }),
            actorRuntime = new
            {
                runtimeStatus = m.ActorRuntime.RuntimeStatus == ActorRuntime.Types.ActorRuntimeStatus.Running ? "RUNNING" : "DISABLED",
                activeActors = m.ActorRuntime.ActiveActors.Select(a => new { type = a.Type, count = a.Count }),
                hostReady = m.ActorRuntime.HostReady,
                placement = m.ActorRuntime.Placement,
            },
            components = m.RegisteredComponents.Select(c => new { name = c.Name, type = c.Type, version = c.Version, capabilities = c.Capabilities.ToArray() }),
            subscriptions = runtime.Subscriptions.Select(s => new
            {
                pubsubname = s.PubSubName,
                topic = s.Topic,
                deadLetterTopic = s.DeadLetterTopic,
                metadata = s.Metadata,
                rules = s.Rules.Select(r => new { match = r.Match, path = r.Path }).Append(new { match = "", path = s.DefaultRoute ?? "" }),
                type = s.Type,
            }),
            extended = new Dictionary<string, string> { ["daprRuntimeVersion"] = RuntimeVersion },
            appConnectionProperties = m.AppConnectionProperties is { } a ? new { port = a.Port, protocol = a.Protocol, channelAddress = a.ChannelAddress } : null,
        }, cancellationToken: context.RequestAborted);
    }
}
