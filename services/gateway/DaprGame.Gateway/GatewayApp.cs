using DaprGame.Gateway.Auth;
using DaprGame.Gateway.Endpoints;
using DaprGame.Gateway.Realtime;
using DaprGame.Hosting;

namespace DaprGame.Gateway;

/// <summary>The gateway's table of contents; tests build it in-process with their own configuration.</summary>
public static class GatewayApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.AddGatewayAuth();
        builder.AddRealtime();
        builder.AddCombatApi();
        builder.AddHistoryApi();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapServiceDefaults();
        app.MapGatewayAuth();
        app.MapRealtime();
        app.MapCombatApi();
        app.MapHistoryApi();
        return app;
    }
}
