using DaprGame.Contracts;
using DaprGame.Testing;
using DaprGame.Testing.Servers;
using Microsoft.AspNetCore.Builder;

namespace DaprGame.EndToEnd.Tests;

/// <summary>
/// The chat slice of the backend as players reach it: two gateway replicas and one chat service, each with its own
/// local sidecar, on one component profile from <c>components/</c>.
/// </summary>
public static class ChatCluster
{
    public static Task<LocalCluster> StartAsync(ClusterProfile profile, RedisServer? redis = null, Action<WebApplicationBuilder>? gateway = null, Action<WebApplicationBuilder>? chat = null) =>
        LocalCluster.StartAsync(profile,
        [
            new ClusterApp(AppIds.Chat, (args, configure) => DaprGame.Chat.ChatApp.Build(args, configure), 1, b =>
            {
                // The tests send in bursts far above a human's rate; the per-player limits are tested on their own.
                b.Configuration["Chat:RateLimit:PerSecond"] = "1000";
                b.Configuration["Chat:RateLimit:Burst"] = "1000";
                chat?.Invoke(b);
            }),
            new ClusterApp(AppIds.Gateway, (args, configure) => DaprGame.Gateway.GatewayApp.Build(args, configure), 2, b =>
            {
                b.Configuration["Auth:Pbkdf2Iterations"] = "1000";
                b.Configuration["Gateway:RateLimits:Send:PerSecond"] = "1000";
                b.Configuration["Gateway:RateLimits:Send:Burst"] = "1000";
                b.Configuration["Gateway:RateLimits:Join:PerSecond"] = "1000";
                b.Configuration["Gateway:RateLimits:Join:Burst"] = "1000";
                b.Configuration["Gateway:RateLimits:Other:PerSecond"] = "1000";
                b.Configuration["Gateway:RateLimits:Other:Burst"] = "1000";
                gateway?.Invoke(b);
            }),
        ], redis?.Host);
}
