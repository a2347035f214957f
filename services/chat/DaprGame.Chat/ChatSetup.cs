using System.Text.Json;
using Dapr.Actors.Runtime;
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
        // The actor runtime talks to this app's own sidecar (DaprEndpoints is resolved from configuration when first
        // used), so two chat apps in one test process each use theirs.
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
