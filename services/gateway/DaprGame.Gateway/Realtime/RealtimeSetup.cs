using System.Text.Json;
using DaprGame.Contracts;
using DaprGame.Contracts.Chat;
using DaprGame.Gateway.Auth;
using DaprGame.Gateway.Endpoints;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;

namespace DaprGame.Gateway.Realtime;

/// <summary>The player socket (<c>/ws</c>), the HTTP API for the same operations, rate limits and push fan-out.</summary>
public static class RealtimeSetup
{
    /// <summary>The route the <c>broadcast</c> subscription to <see cref="Topics.Chat"/> delivers to.</summary>
    public const string ChatEventsRoute = "/internal/events/chat";
    public const string TradingEventsRoute = "/internal/events/trading";
    public const string MarketEventsRoute = "/internal/events/trading-market";

    public static WebApplicationBuilder AddRealtime(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<RealtimeOptions>().Bind(builder.Configuration.GetSection(RealtimeOptions.Section));
        // TryAdd throughout: the auth side (and tests) may register their own first or after, and theirs win.
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SessionRevocationHub>();
        services.TryAddSingleton<IChatClient, DaprChatClient>();
        services.TryAddSingleton<Endpoints.TradingInvoker>();
        services.TryAddSingleton<TradingPushes>();
        services.TryAddSingleton<GatewayRealtimeLog>();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton<RateLimiter>();
        services.TryAddSingleton<ConnectionRegistry>();
        services.TryAddSingleton<PresenceReporter>();
        services.TryAddSingleton<ResumeStore>();
        services.TryAddSingleton<PushHub>();
        services.TryAddSingleton<ChatOperations>();
        services.TryAddSingleton<SocketHandler>();
        services.TryAddSingleton<ChatApi>();
        services.AddHostedService<RealtimeBackground>();
        services.AddAuthorization();
        // Framework-made client errors on chat routes (unreadable JSON, 404, 405) carry a code like ours do.
        services.Configure<ProblemDetailsOptions>(o => o.CustomizeProblemDetails += context =>
        {
            if (context.HttpContext.Request.Path.StartsWithSegments("/v1/chat")
                && context.ProblemDetails.Status is >= 400 and < 500
                && !context.ProblemDetails.Extensions.ContainsKey("code"))
            {
                context.ProblemDetails.Extensions["code"] = context.ProblemDetails.Status switch
                {
                    401 => "unauthorized",
                    404 => ChatErrorCodes.NotFound,
                    429 => GatewayErrorCodes.RateLimited,
                    _ => GatewayErrorCodes.BadRequest,
                };
            }
        });
        services.AddOpenApi();
        return builder;
    }

    public static WebApplication MapRealtime(this WebApplication app)
    {
        app.UseWebSockets();
        var webRoot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        IFileProvider files = Directory.Exists(webRoot) ? new PhysicalFileProvider(webRoot) : app.Environment.WebRootFileProvider;
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });

        app.Map("/ws", (HttpContext context, SocketHandler handler) => handler.HandleAsync(context))
            .ExcludeFromDescription();

        app.MapPost(ChatEventsRoute, (HttpContext context, PushHub hub, GatewayRealtimeLog log) => OnChatEventAsync(context, hub, log))
            .WithTopic(Components.Broadcast, Topics.Chat)
            .ExcludeFromDescription();

        app.MapPost(TradingEventsRoute, (HttpContext context, TradingPushes pushes) => OnTradingEventAsync(context, pushes))
            .WithTopic(Components.Broadcast, Topics.Trading)
            .ExcludeFromDescription();
        app.MapPost(MarketEventsRoute, (HttpContext context, TradingPushes pushes) => OnTradingEventAsync(context, pushes))
            .WithTopic(Components.Broadcast, Topics.TradingMarket)
            .ExcludeFromDescription();

        app.MapChatApi();
        app.MapTradingApi();
        app.MapOpenApi();
        return app;
    }

    private static async Task<IResult> OnTradingEventAsync(HttpContext context, TradingPushes pushes)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            pushes.Publish(document.RootElement);
        }
        catch (JsonException)
        {
            // Not JSON: redelivery will not help.
            return Results.Ok(new { status = "DROP" });
        }
        return Results.Ok();
    }

    private static async Task<IResult> OnChatEventAsync(HttpContext context, PushHub hub, GatewayRealtimeLog log)
    {
        ChannelEvent? evt;
        try
        {
            evt = await JsonSerializer.DeserializeAsync<ChannelEvent>(context.Request.Body, ChatJson.Options, context.RequestAborted);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            // A message no reader can understand will not improve with redelivery: drop it, loudly.
            log.BadChatEvent(ex);
            return Results.Ok(new { status = "DROP" });
        }
        if (evt is not null)
        {
            hub.Publish(evt);
        }
        return Results.Ok();
    }
}
