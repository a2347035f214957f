using Dapr.Actors.Runtime;
using DaprGame.Combat.Actors;
using DaprGame.Combat.Endpoints;
using DaprGame.Combat.Infrastructure;
using DaprGame.Combat.Matches;
using DaprGame.Combat.Socket;
using DaprGame.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DaprGame.Combat;

/// <summary>Matches (the Match actor and this replica's tick loops), the match socket, replays and the API the gateway calls.</summary>
public static class CombatSetup
{
    public static WebApplicationBuilder AddCombat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => CombatOptions.From(sp.GetRequiredService<IConfiguration>()));
        // Without a simulation core the service still starts; every match operation then refuses with a clear message.
        services.TryAddSingleton<ISimulationFactory, CoreSimulationFactory>();
        services.TryAddSingleton<ICombatPublisher, DaprCombatPublisher>();
        services.AddSingleton<CombatMetrics>();
        services.AddSingleton<CombatActorClient>();
        services.AddSingleton<ReplayStore>();
        services.AddSingleton<MatchJournal>();
        services.AddSingleton<MatchDirectory>();
        services.AddSingleton<LoopEvents>();
        services.AddHostedService(sp => sp.GetRequiredService<LoopEvents>());
        services.AddSingleton<MatchRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<MatchRunner>());
        services.AddSingleton<GatewayKeys>();
        services.AddSingleton<TicketVerifier>();
        services.AddSingleton<MatchSocketHandler>();
        services.AddActors(o =>
        {
            o.JsonSerializerOptions = CombatActorClient.Json;
            o.Actors.RegisterActor<MatchActor>();
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

    public static WebApplication MapCombat(this WebApplication app)
    {
        // Fail at start-up, not on the first call, when the Combat section is wrong.
        _ = app.Services.GetRequiredService<CombatOptions>();
        app.UseWebSockets();
        app.MapActorsHandlers();
        app.MapCombatEndpoints();
        return app;
    }
}
