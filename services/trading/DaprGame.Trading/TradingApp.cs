using DaprGame.Hosting;

namespace DaprGame.Trading;

/// <summary>The trading service's table of contents; tests build it in-process with their own configuration.</summary>
public static class TradingApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.AddTrading();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapServiceDefaults();
        app.MapTrading();
        return app;
    }
}
