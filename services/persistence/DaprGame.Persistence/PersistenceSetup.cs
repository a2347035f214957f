using DaprGame.Persistence.Backups;
using DaprGame.Persistence.Endpoints;
using DaprGame.Persistence.Infrastructure;
using DaprGame.Persistence.Ingest;
using Microsoft.Extensions.Options;

namespace DaprGame.Persistence;

public static class PersistenceSetup
{
    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<PersistenceOptions>(builder.Configuration.GetSection(PersistenceOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PersistenceMetrics>();
        builder.Services.AddSingleton<LogStore>();
        builder.Services.AddSingleton<BackupService>();
        builder.Services.AddSingleton<BackupKeyProvider>();
        builder.Services.AddSingleton<RetentionService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RetentionService>());
        builder.Services.AddSingleton<LogKeeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LogKeeper>());
        builder.Services.AddHealthChecks().AddCheck<LogReadyCheck>("log");
        return builder;
    }

    public static WebApplication MapPersistence(this WebApplication app)
    {
        app.MapEventIngest(app.Services.GetRequiredService<IOptions<PersistenceOptions>>().Value);
        app.MapHistory();
        app.MapAdmin();
        app.MapBackups();
        return app;
    }
}
