using System.Text.Json;
using Dapr.Actors.Runtime;
using Dapr.Client;
using DaprGame.Chat.Actors;
using DaprGame.Chat.Endpoints;
using DaprGame.Chat.Infrastructure;
using DaprGame.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DaprGame.Chat;

/// <summary>Channels, the ChatRoom actor, moderation and the API the gateway calls.</summary>
public static class ChatSetup
{
    public static WebApplicationBuilder AddChat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        // Sidecar endpoints are read when the container is built, not now: callers (tests, the launcher) may still set
        // DAPR_HTTP_ENDPOINT after AddServiceDefaults/AddChat, and each app must talk to its own sidecar.
        services.Replace(ServiceDescriptor.Singleton(sp => DaprEndpoints.From(sp.GetRequiredService<IConfiguration>())));
        services.Replace(ServiceDescriptor.Singleton(sp =>
        {
            var endpoints = sp.GetRequiredService<DaprEndpoints>();
            return new DaprClientBuilder()
                .UseHttpEndpoint(endpoints.Http)
                .UseGrpcEndpoint(endpoints.Grpc)
                .UseDaprApiToken(endpoints.ApiToken)
                .UseJsonSerializationOptions(ServiceDefaults.JsonOptions)
                .Build();
        }));

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => ChatOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<ChatMetrics>();
        services.TryAddSingleton<IChatPublisher, DaprChatPublisher>();
        services.AddSingleton(sp => new ChatActorClient(sp.GetRequiredService<DaprEndpoints>(), ActorJson));

        services.AddActors(o =>
        {
            o.JsonSerializerOptions = ActorJson;
            o.Actors.RegisterActor<ChatRoomActor>();
            o.Actors.RegisterActor<ChatMemberActor>();
            o.Actors.RegisterActor<ChatDirectoryActor>();
        });
        services.AddOptions<ActorRuntimeOptions>().Configure<DaprEndpoints>((o, endpoints) =>
        {
            o.HttpEndpoint = endpoints.Http;
            if (endpoints.ApiToken is { } token)
            {
                o.DaprApiToken = token;
            }
        });
        return builder;
    }

    public static WebApplication MapChat(this WebApplication app)
    {
        // Fail at start-up, not on the first call, when the Chat section is wrong.
        _ = app.Services.GetRequiredService<ChatOptions>();
        app.MapActorsHandlers();
        app.MapChatEndpoints();
        return app;
    }

    /// <summary>Actor bodies and state use the wire options (camelCase, enums as strings), copied because the SDK may set more.</summary>
    private static JsonSerializerOptions ActorJson { get; } = new(ServiceDefaults.JsonOptions);
}
