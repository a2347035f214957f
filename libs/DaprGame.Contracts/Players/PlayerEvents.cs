namespace DaprGame.Contracts.Players;

/// <summary>
/// A session (a refresh-token family) was revoked: logout, refresh-token reuse, or an admin action. Every gateway
/// closes that session's sockets. Stream <c>player/{playerId}</c>.
/// </summary>
public sealed record PlayerSessionRevoked : IntegrationEvent
{
    public const string EventType = "player.session.revoked.v1";

    public required string PlayerId { get; init; }

    public required string SessionId { get; init; }

    /// <summary><c>logout</c>, <c>refresh_reuse</c> or <c>admin</c>.</summary>
    public required string Reason { get; init; }
}
