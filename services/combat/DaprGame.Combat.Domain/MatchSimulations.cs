using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Combat.Domain;

/// <summary>Creates matches: the host's only way to get an <see cref="IMatchSimulation"/>.</summary>
public static class MatchSimulations
{
    public const string DeathmatchMode = "deathmatch";
    public const string TeamMode = "team";
    public const int MaxBots = 5000;

    /// <summary>Mode names: <c>deathmatch</c> (free for all) and <c>team</c> (teams 1 and 2).</summary>
    public static IReadOnlyList<string> Modes { get; } = [DeathmatchMode, TeamMode];

    /// <summary>Map names: <c>arena</c> (64 × 64 world units), <c>plaza</c> (160 × 160), <c>field</c> (512 × 512, for thousands of entities).</summary>
    public static IReadOnlyList<string> Maps { get; } = [.. MapDefinition.All.Select(m => m.Name)];

    /// <summary>Null when the setup can start a match, else what is wrong with it.</summary>
    public static string? Validate(MatchSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return !Modes.Contains(setup.Mode) ? $"unknown mode '{setup.Mode}' (known: {string.Join(", ", Modes)})"
            : MapDefinition.Find(setup.Map) is null ? $"unknown map '{setup.Map}' (known: {string.Join(", ", Maps)})"
            : setup.TickRate is < 10 or > 60 ? $"tick rate {setup.TickRate} is outside 10–60"
            : setup.MaxPlayers is < 1 or > 64 ? $"max players {setup.MaxPlayers} is outside 1–64"
            : setup.DurationTicks < 0 ? "duration cannot be negative"
            : setup.ScoreLimit < 0 ? "score limit cannot be negative"
            : setup.Bots is < 0 or > MaxBots ? $"bots {setup.Bots} is outside 0–{MaxBots}"
            : null;
    }

    /// <exception cref="ArgumentException">The setup (or options) fail validation.</exception>
    public static IMatchSimulation Create(MatchSetup setup) => Create(setup, new SimulationOptions());

    /// <exception cref="ArgumentException">The setup (or options) fail validation.</exception>
    public static IMatchSimulation Create(MatchSetup setup, SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problem = Validate(setup) ?? options.Validate();
        return problem is null ? new Match(setup, options) : throw new ArgumentException(problem, nameof(setup));
    }
}
