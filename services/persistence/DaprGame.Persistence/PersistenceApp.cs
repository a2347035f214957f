using DaprGame.Hosting;

namespace DaprGame.Persistence;

/// <summary>The persistence service's table of contents; tests build it in-process with their own configuration.</summary>
public static class PersistenceApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.AddPersistence();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapServiceDefaults();
        app.MapPersistence();
        return app;
    }
}
