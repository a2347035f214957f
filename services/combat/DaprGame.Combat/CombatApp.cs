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
        // LEAD: the simulation core is registered here, by uncommenting the line below once DaprGame.Combat.Domain provides
        // MatchSimulations and Replays (README "Wiring the simulation"). Until then every match operation refuses.
        // builder.Services.AddSingleton<Matches.ISimulationFactory>(new Matches.DelegateSimulationFactory(() => Domain.MatchSimulations.Maps, Domain.MatchSimulations.Validate, Domain.MatchSimulations.Create, (log, hashes) => { var r = Domain.Replays.Verify(log, hashes); return new Matches.ReplayOutcome(r.Ticks, r.FinalHash, r.Mismatches, r.FirstMismatchTick); }));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapServiceDefaults();
        app.MapCombat();
        return app;
    }
}
