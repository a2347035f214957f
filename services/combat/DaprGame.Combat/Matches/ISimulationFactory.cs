using DaprGame.Combat.Domain;

namespace DaprGame.Combat.Matches;

/// <summary>
/// The host's one port to the simulation core: which maps exist, whether a setup is playable, a new simulation, and
/// replay verification. <see cref="CoreSimulationFactory"/> adapts <c>MatchSimulations</c> and <c>Replays</c> of
/// <c>DaprGame.Combat.Domain</c>; host tests that are about the loop, not the game, may register a small fake.
/// </summary>
public interface ISimulationFactory
{
    IReadOnlyList<string> Maps { get; }

    /// <summary>Null when <paramref name="setup"/> is playable; otherwise why not, for people.</summary>
    string? Validate(MatchSetup setup);

    IMatchSimulation Create(MatchSetup setup);

    /// <summary>Re-simulates a match from its log and compares each tick's hash with <paramref name="expectedHashes"/>.</summary>
    ReplayOutcome Verify(byte[] log, IReadOnlyList<ulong> expectedHashes);
}

/// <summary>What a re-simulation found.</summary>
public sealed record ReplayOutcome(int Ticks, ulong FinalHash, int Mismatches, int? FirstMismatchTick);

/// <summary>The simulation core of <c>DaprGame.Combat.Domain</c> behind the host's port.</summary>
internal sealed class CoreSimulationFactory : ISimulationFactory
{
    public IReadOnlyList<string> Maps => MatchSimulations.Maps;

    public string? Validate(MatchSetup setup) => MatchSimulations.Validate(setup);

    public IMatchSimulation Create(MatchSetup setup) => MatchSimulations.Create(setup);

    public ReplayOutcome Verify(byte[] log, IReadOnlyList<ulong> expectedHashes)
    {
        var report = Replays.Verify(log, expectedHashes);
        return new ReplayOutcome(report.Ticks, report.FinalHash, report.Mismatches, report.FirstMismatchTick);
    }
}
