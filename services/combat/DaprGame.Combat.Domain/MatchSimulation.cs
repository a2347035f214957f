using System.Buffers;

namespace DaprGame.Combat.Domain;

// The seam between the combat host (actor, tick loop, match socket) and the simulation core. The host only ever
// talks to a match through IMatchSimulation; everything behind it is deterministic: the same setup and the same
// input log give the same state hash at every tick, on any machine.

/// <summary>What a match is created with. With the input log it determines every tick of the match.</summary>
/// <param name="Mode">Game mode name, for example <c>deathmatch</c> or <c>team</c>.</param>
/// <param name="Map">Map name; the simulation knows its bounds, obstacles and spawn points.</param>
/// <param name="TickRate">Ticks per second, 10–60.</param>
/// <param name="Seed">Seed of the match's random number generator.</param>
/// <param name="MaxPlayers">Most players at once, 1–64.</param>
/// <param name="DurationTicks">The match ends after this many ticks (0: only when the host ends it).</param>
/// <param name="ScoreLimit">The match ends when a player or team reaches this score (0: no limit).</param>
/// <param name="Bots">Server-driven entities (non-player) spawned at start, to fill an arena.</param>
public sealed record MatchSetup(
    string Mode,
    string Map,
    int TickRate,
    ulong Seed,
    int MaxPlayers = 10,
    int DurationTicks = 0,
    int ScoreLimit = 0,
    int Bots = 0);

/// <summary>Buttons held during a tick.</summary>
[Flags]
public enum InputButtons : byte
{
    None = 0,
    Fire = 1,
    Ability1 = 2,
    Ability2 = 4,
    Jump = 8,
}

/// <summary>
/// One input as a client sent it, already decoded from its binary frame. Movement is a wish: the simulation
/// applies at most the entity's maximum speed; a move vector longer than 1000 is a speed hack (clamped, counted).
/// </summary>
public readonly record struct PlayerInput
{
    /// <summary>The client's sequence number; strictly increasing per client. Echoed in snapshots for reconciliation.</summary>
    public uint Sequence { get; init; }

    /// <summary>The tick the client meant this input for (its estimate of the server tick).</summary>
    public int Tick { get; init; }

    /// <summary>The tick the client was rendering when it acted; hits are checked against that past (lag compensation, bounded).</summary>
    public int ViewTick { get; init; }

    /// <summary>The entity the client acts for; must be the player's own.</summary>
    public int Entity { get; init; }

    /// <summary>Movement wish, each axis −1000…1000 (1000 = full speed on that axis).</summary>
    public short MoveX { get; init; }

    public short MoveY { get; init; }

    /// <summary>Aim direction (any length but not zero when firing).</summary>
    public short AimX { get; init; }

    public short AimY { get; init; }

    public InputButtons Buttons { get; init; }
}

/// <summary>Why an input was refused or altered. Counted per reason; enough of them raise a cheat flag.</summary>
public enum InputVerdict : byte
{
    Accepted = 0,
    /// <summary>Accepted after clamping the movement to the maximum speed.</summary>
    ClampedSpeed,
    RejectedForeignEntity,
    RejectedCooldown,
    RejectedFlood,
    RejectedFuture,
    RejectedStale,
    RejectedSequence,
    RejectedNotInMatch,
    RejectedMalformed,
}

/// <summary>Something that happened in a tick, reported to the host (which turns some of them into events).</summary>
public abstract record MatchOccurrence(int Tick);

public sealed record PlayerKilled(int Tick, string VictimId, string? KillerId, string Weapon) : MatchOccurrence(Tick);

public sealed record LootDropped(int Tick, string PlayerId, string Item, int Quantity) : MatchOccurrence(Tick);

public sealed record CheatFlagged(int Tick, string PlayerId, InputVerdict Reason, int Count) : MatchOccurrence(Tick);

public sealed record MatchFinished(int Tick, string Reason) : MatchOccurrence(Tick);

/// <summary>The outcome of one step.</summary>
public readonly record struct TickReport(int Tick, ulong StateHash, IReadOnlyList<MatchOccurrence> Occurrences);

/// <summary>A player's line in the result.</summary>
public sealed record PlayerStats(string PlayerId, int Team, int Score, int Kills, int Deaths, int DamageDealt);

/// <summary>Final standings: players ordered by score; <see cref="Winners"/> are the best player(s) or team.</summary>
public sealed record MatchResult(int Ticks, ulong FinalHash, IReadOnlyList<PlayerStats> Players, IReadOnlyList<string> Winners);

/// <summary>
/// One running match. Not thread-safe: the host's loop calls it from one thread. Joins, leaves and accepted
/// inputs all go into <see cref="Log"/>, so <c>Replays.Verify</c> can re-simulate the match.
/// </summary>
public interface IMatchSimulation
{
    MatchSetup Setup { get; }

    /// <summary>The last completed tick (0 before the first step).</summary>
    int Tick { get; }

    ulong StateHash { get; }

    bool IsOver { get; }

    /// <summary>
    /// Adds a player (takes effect at the next step); returns the entity the player controls. Joining again while
    /// in the match returns the same entity; joining after leaving gives a new entity and keeps the stats.
    /// </summary>
    /// <param name="team">1 or 2 in <c>team</c> mode; ignored in <c>deathmatch</c> (every player is on team 0).</param>
    /// <exception cref="InvalidOperationException">The match is over or already has <see cref="MatchSetup.MaxPlayers"/> players.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A team other than 1 or 2 in team mode.</exception>
    int Join(string playerId, int team);

    /// <summary>The player's entity leaves at the next step; their stats stay in the result.</summary>
    void Leave(string playerId);

    /// <summary>
    /// Validates an input and queues it for the next step; anything but Accepted/Clamped leaves the match unchanged.
    /// Sequences start at 1 (a rejoin starts over). After the match is over every input is RejectedNotInMatch.
    /// </summary>
    InputVerdict Submit(string playerId, in PlayerInput input);

    /// <summary>The last input sequence of the player the simulation processed (for client reconciliation).</summary>
    uint LastProcessedSequence(string playerId);

    /// <summary>Advances one tick with the queued inputs.</summary>
    /// <exception cref="InvalidOperationException">The match is over.</exception>
    TickReport Step();

    /// <summary>
    /// Writes what <paramref name="playerId"/> may see at the current tick: a delta against <paramref name="baselineTick"/>
    /// when that tick is still in history, a full snapshot otherwise (or when baseline is 0). Entities outside the
    /// player's interest are never written. Returns the number of bytes written. The format is read by
    /// <c>SnapshotView</c>; a player who left still gets snapshots (team-mates only).
    /// </summary>
    /// <exception cref="ArgumentException">The player never joined the match.</exception>
    int WriteSnapshot(string playerId, int baselineTick, IBufferWriter<byte> output);

    /// <summary>Counts of refused/altered inputs per reason, for metrics.</summary>
    IReadOnlyDictionary<InputVerdict, long> VerdictCounts { get; }

    /// <summary>Everything needed to replay the match (setup, joins, leaves, accepted inputs per tick), in a compact binary form.</summary>
    byte[] Log { get; }

    /// <summary>Per-tick state hashes recorded so far (index 0 = tick 1).</summary>
    IReadOnlyList<ulong> TickHashes { get; }

    MatchResult Result();
}
