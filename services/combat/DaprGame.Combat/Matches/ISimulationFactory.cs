using DaprGame.Combat.Domain;

namespace DaprGame.Combat.Matches;

/// <summary>
/// The host's one port to the simulation core: which maps exist, whether a setup is playable, a new simulation, and
/// replay verification. The real one adapts <c>MatchSimulations</c> and <c>Replays</c> of
/// <c>DaprGame.Combat.Domain</c>; tests register a small deterministic fake.
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

/// <summary>
/// Registered when no simulation core is: the service starts (health, metrics, the rest of the system) and every
/// match operation refuses clearly instead of pretending.
/// </summary>
internal sealed class UnwiredSimulationFactory : ISimulationFactory
{
    private const string Message = "combat: no simulation core is registered (ISimulationFactory); see CombatApp.Build";

    public IReadOnlyList<string> Maps => [];

    public string? Validate(MatchSetup setup) => throw new InvalidOperationException(Message);

    public IMatchSimulation Create(MatchSetup setup) => throw new InvalidOperationException(Message);

    public ReplayOutcome Verify(byte[] log, IReadOnlyList<ulong> expectedHashes) => throw new InvalidOperationException(Message);
}

/// <summary>
/// An <see cref="ISimulationFactory"/> made of four functions, so registering the simulation core is one line in
/// <see cref="CombatApp.Build"/> (the functions of <c>MatchSimulations</c> and <c>Replays</c>).
/// </summary>
public sealed class DelegateSimulationFactory(
    Func<IReadOnlyList<string>> maps,
    Func<MatchSetup, string?> validate,
    Func<MatchSetup, IMatchSimulation> create,
    Func<byte[], IReadOnlyList<ulong>, ReplayOutcome> verify) : ISimulationFactory
{
    public IReadOnlyList<string> Maps => maps();

    public string? Validate(MatchSetup setup) => validate(setup);

    public IMatchSimulation Create(MatchSetup setup) => create(setup);

    public ReplayOutcome Verify(byte[] log, IReadOnlyList<ulong> expectedHashes) => verify(log, expectedHashes);
}
