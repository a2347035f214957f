using DaprGame.Hosting;

namespace DaprGame.Combat;

/// <summary>The combat service's table of contents; tests build it in-process with their own configuration.</summary>
public static class CombatApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.AddCombat();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapServiceDefaults();
        app.MapCombat();
        return app;
    }
}
