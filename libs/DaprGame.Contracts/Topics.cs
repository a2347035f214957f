namespace DaprGame.Contracts;

/// <summary>
/// Every pub/sub topic, in one table. A topic carries one domain's events; the CloudEvent <c>type</c>
/// (<c>&lt;domain&gt;.&lt;event&gt;.v&lt;N&gt;</c>) says which event a message holds.
/// </summary>
public static class Topics
{
    /// <summary>
    /// Channel streams: <c>chat.message.*</c> and <c>chat.member.*</c>. Every event carries its channel's offset;
    /// gateways push these to members' sockets.
    /// </summary>
    public const string Chat = "chat";

    /// <summary>Moderation audit: <c>chat.moderation.*</c> (who did what to whom, when). Not pushed to players.</summary>
    public const string ChatModeration = "chat.moderation";

    /// <summary>Player sessions: <c>player.*</c> (a revoked session's sockets are closed on every gateway).</summary>
    public const string Players = "player";

    /// <summary>
    /// Trading activity of players: <c>trading.order.*</c>, <c>trading.fill.v1</c>, <c>trading.settlement.*</c>,
    /// <c>trading.trade.*</c>. Gateways push each to the players it names.
    /// </summary>
    public const string Trading = "trading";

    /// <summary>Public market data: <c>trading.book.delta.v1</c> (L2 increments with book sequence numbers).</summary>
    public const string TradingMarket = "trading.market";

    /// <summary>
    /// Matches: <c>combat.match.*</c> (created, started, ended with the result), <c>combat.player.killed.v1</c>,
    /// <c>combat.loot.dropped.v1</c> (trading grants each drop once, keyed by its loot id) and
    /// <c>combat.cheat.flagged.v1</c>. Stream <c>combat/match/{matchId}</c>, one sequence per match.
    /// </summary>
    public const string Combat = "combat";

    /// <summary>
    /// Logged events republished on request (<c>persistence.event.replayed.v1</c>), for a service rebuilding its state.
    /// The persistence service never subscribes to it.
    /// </summary>
    public const string Replay = "persistence.replay";

    /// <summary>The topics the persistence service logs: every domain topic (never <see cref="Replay"/>).</summary>
    public static IReadOnlyList<string> Logged { get; } = [Chat, ChatModeration, Players, Trading, TradingMarket, Combat];
}
