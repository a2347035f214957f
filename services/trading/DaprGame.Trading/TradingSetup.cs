using System.Text.Json;
using Dapr.Actors.Runtime;
using DaprGame.Hosting;
using DaprGame.Trading.Actors;
using DaprGame.Trading.Endpoints;
using DaprGame.Trading.Infrastructure;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DaprGame.Trading;

/// <summary>Wallets, order books, settlements, direct trades and the API the gateway and other services call.</summary>
public static class TradingSetup
{
    public static WebApplicationBuilder AddTrading(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => TradingOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.TryAddSingleton<ITradingPublisher, DaprTradingPublisher>();
        services.AddSingleton(sp => new TradingActorClient(sp.GetRequiredService<DaprEndpoints>(), ActorJson));
        services.AddActors(o =>
        {
            o.JsonSerializerOptions = ActorJson;
            o.Actors.RegisterActor<WalletActor>();
            o.Actors.RegisterActor<OrderBookActor>();
            o.Actors.RegisterActor<SettlementActor>();
            o.Actors.RegisterActor<DirectTradeActor>();
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

    public static WebApplication MapTrading(this WebApplication app)
    {
        // Fail at start-up, not on the first call, when the Trading section is wrong.
        _ = app.Services.GetRequiredService<TradingOptions>();
        app.MapActorsHandlers();
        app.MapTradingEndpoints();
        app.MapLootConsumer();
        return app;
    }

    /// <summary>Actor bodies and state use the wire options (camelCase, enums as strings), copied because the SDK may set more.</summary>
    private static JsonSerializerOptions ActorJson { get; } = new(ServiceDefaults.JsonOptions);
}
