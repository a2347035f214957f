using DaprGame.Contracts.Trading;

namespace DaprGame.Contracts.Combat;

// The combat service's API. Players reach it through the gateway (/v1/combat/...), which forwards the verified player
// id and roles in CombatHeaders (the same headers as trading's); combat trusts them only from the callers its access
// list names (the gateway). Errors are ProblemDetails whose "code" extension is one of CombatErrorCodes. The match
// itself is played over the match socket of the replica running it, with a ticket the gateway signs.

/// <summary>Headers of gateway → combat calls: the same names as <see cref="TradingHeaders"/>.</summary>
public static class CombatHeaders
{
    public const string PlayerId = TradingHeaders.PlayerId;

    /// <summary>Comma-separated roles of the acting player (for example <c>player,admin</c>).</summary>
    public const string Roles = TradingHeaders.Roles;
}

/// <summary>Routes of the combat service (the gateway serves each under <c>/v1/combat</c> with the <c>/v1</c> dropped).</summary>
public static class CombatRoutes
{
    /// <summary>POST <see cref="CreateMatch"/> → <see cref="MatchView"/>. GET (admin role): <see cref="MatchSummary"/> list, newest first.</summary>
    public const string Matches = "/v1/matches";

    /// <summary>GET → <see cref="MatchView"/>.</summary>
    public static string Match(string matchId) => $"/v1/matches/{matchId}";

    /// <summary>POST → <see cref="JoinView"/> (the gateway answers <see cref="JoinTicket"/>).</summary>
    public static string Join(string matchId) => $"/v1/matches/{matchId}/join";

    /// <summary>POST → <see cref="MatchView"/>.</summary>
    public static string Leave(string matchId) => $"/v1/matches/{matchId}/leave";

    /// <summary>POST (owner or admin) → <see cref="MatchView"/>.</summary>
    public static string Start(string matchId) => $"/v1/matches/{matchId}/start";

    /// <summary>POST (owner or admin) → <see cref="MatchView"/> with the result.</summary>
    public static string End(string matchId) => $"/v1/matches/{matchId}/end";

    /// <summary>GET (admin): <see cref="ReplayView"/>. POST (admin): re-simulate → <see cref="ReplayVerification"/>.</summary>
    public static string Replay(string matchId) => $"/v1/matches/{matchId}/replay";

    /// <summary>The match socket (WebSocket) on the replica running the match: <c>?match={id}&amp;ticket={ticket}</c>.</summary>
    public const string Socket = "/match";
}

/// <summary>Error codes combat returns (ProblemDetails extension <c>code</c>).</summary>
public static class CombatErrorCodes
{
    public const string Invalid = "invalid";
    public const string UnknownMap = "unknown_map";
    public const string NotFound = "not_found";
    public const string Forbidden = "forbidden";
    public const string Unauthenticated = "unauthenticated";
    public const string MatchFull = "match_full";
    public const string WrongState = "wrong_state";
    public const string Conflict = "conflict";
    public const string Unavailable = "unavailable";
}

/// <summary>Match statuses.</summary>
public static class MatchStatuses
{
    public const string Lobby = "lobby";
    public const string Running = "running";
    public const string Ended = "ended";
}

/// <summary>
/// A new match. <see cref="MatchId"/> (1-64 of <c>[A-Za-z0-9_-]</c>) makes creation idempotent; without it combat
/// makes one. <see cref="TickRate"/> is 10–60, <see cref="MaxPlayers"/> 1–64; <see cref="Seed"/> defaults to a random one.
/// </summary>
public sealed record CreateMatch(
    string? MatchId,
    string Mode,
    string Map,
    int TickRate,
    ulong? Seed = null,
    int MaxPlayers = 10,
    int DurationTicks = 0,
    int ScoreLimit = 0,
    int Bots = 0);

/// <summary>A player in a match: <see cref="Slot"/> 0…max-1, the team, the entity they control; <see cref="Left"/> once gone.</summary>
public sealed record MatchPlayerView(string PlayerId, int Slot, int Team, int Entity, bool Left);

/// <summary>The result of an ended match (absent when the match was lost with its replica).</summary>
public sealed record MatchResultView(int Ticks, string FinalHash, IReadOnlyList<CombatPlayerResult> Players, IReadOnlyList<string> Winners);

/// <summary>A match. <see cref="Address"/> is the match socket of the replica that runs (or will run) it.</summary>
public sealed record MatchView(
    string MatchId,
    string OwnerId,
    string Status,
    string Mode,
    string Map,
    int TickRate,
    ulong Seed,
    int MaxPlayers,
    int DurationTicks,
    int ScoreLimit,
    int Bots,
    IReadOnlyList<MatchPlayerView> Players,
    string Address,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    string? EndReason,
    MatchResultView? Result);

/// <summary>One line of the admin list.</summary>
public sealed record MatchSummary(string MatchId, string OwnerId, string Mode, string Map, DateTimeOffset CreatedAt);

/// <summary>Combat's answer to a join: where to connect and as what.</summary>
public sealed record JoinView(string MatchId, string PlayerId, int Slot, int Team, int Entity, string Status, int TickRate, string Address);

/// <summary>
/// The gateway's answer to a join: <see cref="JoinView"/> plus a short-lived <see cref="Ticket"/> the match socket
/// accepts (<c>{Address}?match={MatchId}&amp;ticket={Ticket}</c>).
/// </summary>
public sealed record JoinTicket(string MatchId, string PlayerId, int Slot, int Team, int Entity, string Status, int TickRate, string Address,
    string Ticket, DateTimeOffset TicketExpiresAt);

/// <summary>What was stored of an ended match to replay it.</summary>
public sealed record ReplayView(string MatchId, string Mode, string Map, int TickRate, ulong Seed, int Ticks, string FinalHash, int LogBytes, DateTimeOffset StoredAt);

/// <summary>
/// A replay re-simulated: ticks run, the final hash, how many ticks hashed differently from the recorded match and the
/// first of them; <see cref="Matches"/> when there was none and the final hash is the recorded one.
/// </summary>
public sealed record ReplayVerification(string MatchId, int Ticks, string FinalHash, int Mismatches, int? FirstMismatchTick, bool Matches);

/// <summary>
/// The match ticket: a compact JWS (ES256) signed with the gateway's key ring, verified by combat with the gateway's
/// JWKS. Claims: <c>iss</c>, <c>aud</c> = <see cref="Audience"/>, <c>sub</c> (player), <see cref="MatchClaim"/>,
/// <c>iat</c>, <c>nbf</c>, <c>exp</c> (<see cref="Lifetime"/>), <c>jti</c> (single use).
/// </summary>
public static class CombatTickets
{
    public const string Audience = "combat";

    public const string MatchClaim = "mid";

    public const string Type = "JWT";

    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The first byte of each binary frame on the match socket (little-endian throughout; layouts in
/// <c>services/combat/README.md</c>). Client frames are below 0x80, server frames 0x80 and up.
/// </summary>
public static class MatchFrameTypes
{
    /// <summary>Client: one input, 26 bytes.</summary>
    public const byte Input = 0x01;

    /// <summary>Client: the last tick received, 5 bytes; later snapshots are deltas against it.</summary>
    public const byte Ack = 0x02;

    /// <summary>Server: entity, team, tick rate, current tick.</summary>
    public const byte Welcome = 0x81;

    /// <summary>Server: tick, baseline, last processed input sequence, then the simulation's snapshot bytes.</summary>
    public const byte Snapshot = 0x82;

    /// <summary>Server: the match ended; UTF-8 JSON <see cref="MatchResultView"/> with the reason.</summary>
    public const byte End = 0x83;

    public const int InputLength = 26;

    public const int AckLength = 5;

    /// <summary>Longest client frame accepted; longer ones are dropped and counted.</summary>
    public const int MaxClientFrame = 256;
}
