namespace DaprGame.Contracts.Combat;

// Combat's integration events, on topic "combat". Every event of a match is in stream combat/match/{matchId} with one
// sequence per match (the Match actor numbers created/started/ended, the match loop numbers what happens in between),
// and its Id is "{stream}:{sequence}": a re-published or re-simulated event has the same id, so consumers dedup on it.

/// <summary>A match was created and is open for players (status <c>lobby</c>).</summary>
public sealed record CombatMatchCreated : IntegrationEvent
{
    public const string EventType = "combat.match.created.v1";

    public required string MatchId { get; init; }

    /// <summary>The player who created it; they (or an admin) start and end it.</summary>
    public required string OwnerId { get; init; }

    public required string Mode { get; init; }

    public required string Map { get; init; }

    public required int TickRate { get; init; }

    public required ulong Seed { get; init; }

    public required int MaxPlayers { get; init; }

    /// <summary>0: the match runs until its owner ends it or the score limit is reached.</summary>
    public required int DurationTicks { get; init; }

    public required int ScoreLimit { get; init; }
}

/// <summary>A match started ticking on one combat replica, whose match socket its players connect to.</summary>
public sealed record CombatMatchStarted : IntegrationEvent
{
    public const string EventType = "combat.match.started.v1";

    public required string MatchId { get; init; }

    public required IReadOnlyList<string> Players { get; init; }

    /// <summary>The match socket address of the replica running the loop (<c>ws://…/match</c>).</summary>
    public required string Address { get; init; }

    public bool Equals(CombatMatchStarted? other) =>
        other is not null && base.Equals(other) && MatchId == other.MatchId && Address == other.Address && Players.SequenceEqual(other.Players);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), MatchId, Address, Players.Count);
}

/// <summary>One player's line of a result.</summary>
public sealed record CombatPlayerResult(string PlayerId, int Team, int Score, int Kills, int Deaths, int DamageDealt);

/// <summary>
/// A match ended. <see cref="Reason"/>: <c>duration</c>, <c>score_limit</c>, <c>ended_by_owner</c>, <c>host_lost</c> (the
/// replica running it went away; no result) or another reason the simulation gave. <see cref="FinalHash"/> is the
/// simulation's state hash after the last tick, 16 lowercase hex digits (a JSON number would lose bits).
/// </summary>
public sealed record CombatMatchEnded : IntegrationEvent
{
    public const string EventType = "combat.match.ended.v1";

    public required string MatchId { get; init; }

    public required string Reason { get; init; }

    public required int Ticks { get; init; }

    public required string FinalHash { get; init; }

    /// <summary>Players ordered by score, best first.</summary>
    public required IReadOnlyList<CombatPlayerResult> Players { get; init; }

    /// <summary>The best player(s) or the winning team's players.</summary>
    public required IReadOnlyList<string> Winners { get; init; }

    public bool Equals(CombatMatchEnded? other) =>
        other is not null && base.Equals(other) && MatchId == other.MatchId && Reason == other.Reason && Ticks == other.Ticks
        && FinalHash == other.FinalHash && Players.SequenceEqual(other.Players) && Winners.SequenceEqual(other.Winners);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), MatchId, Reason, Ticks, FinalHash, Players.Count, Winners.Count);
}

/// <summary>A player was killed in a tick. <see cref="KillerId"/> is absent for a death without a killer (a fall, a bot).</summary>
public sealed record CombatPlayerKilled : IntegrationEvent
{
    public const string EventType = "combat.player.killed.v1";

    public required string MatchId { get; init; }

    public required int Tick { get; init; }

    public required string VictimId { get; init; }

    public string? KillerId { get; init; }

    public required string Weapon { get; init; }
}

/// <summary>
/// Loot for <see cref="PlayerId"/>. Trading grants it to that player's wallet exactly once, keyed by
/// <see cref="LootId"/> (<c>loot:{matchId}:{tick}:{n}</c>), which stays the same on redelivery and re-simulation.
/// </summary>
public sealed record CombatLootDropped : IntegrationEvent
{
    public const string EventType = "combat.loot.dropped.v1";

    public required string MatchId { get; init; }

    public required string LootId { get; init; }

    public required int Tick { get; init; }

    public required string PlayerId { get; init; }

    /// <summary>An item type, for example <c>iron-sword</c>.</summary>
    public required string Item { get; init; }

    public required int Quantity { get; init; }
}

/// <summary>Anti-cheat: a player's inputs were refused or altered <see cref="Count"/> times for <see cref="Reason"/>.</summary>
public sealed record CombatCheatFlagged : IntegrationEvent
{
    public const string EventType = "combat.cheat.flagged.v1";

    public required string MatchId { get; init; }

    public required int Tick { get; init; }

    public required string PlayerId { get; init; }

    /// <summary>The input verdict, camelCase (<c>clampedSpeed</c>, <c>rejectedForeignEntity</c>, …).</summary>
    public required string Reason { get; init; }

    public required int Count { get; init; }
}
