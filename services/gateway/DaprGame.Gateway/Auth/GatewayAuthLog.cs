namespace DaprGame.Gateway.Auth;

/// <summary>The auth side's log messages. Never log a password, a refresh secret or a whole token.</summary>
internal static partial class GatewayAuthLog
{
    [LoggerMessage(1, LogLevel.Information, "Player {PlayerId} signed in ({Method}), session {SessionId}")]
    public static partial void SignedIn(ILogger logger, string playerId, string method, string sessionId);

    [LoggerMessage(2, LogLevel.Information, "Login refused for a username ({Outcome})")]
    public static partial void LoginRefused(ILogger logger, string outcome);

    [LoggerMessage(3, LogLevel.Debug, "Access token refused: {Reason}")]
    public static partial void TokenRefused(ILogger logger, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Session {SessionId} of player {PlayerId} revoked: {Reason}")]
    public static partial void SessionRevoked(ILogger logger, string sessionId, string playerId, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Refresh token reuse detected on session {SessionId} of player {PlayerId}; the family is revoked")]
    public static partial void RefreshReuse(ILogger logger, string sessionId, string playerId);

    [LoggerMessage(6, LogLevel.Error, "Publishing the revocation of session {SessionId} failed; other replicas learn it from the store within the session cache time")]
    public static partial void RevocationPublishFailed(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(7, LogLevel.Information, "Signing key ring created with key {Kid}")]
    public static partial void KeyRingCreated(ILogger logger, string kid);

    [LoggerMessage(8, LogLevel.Warning, "Signing key rotated: current key {Kid}, retired {RetiredKid}")]
    public static partial void KeyRotated(ILogger logger, string kid, string? retiredKid);

    [LoggerMessage(9, LogLevel.Warning, "A revocation event for session {SessionId} did not match the stored session; ignored")]
    public static partial void RevocationEventUnconfirmed(ILogger logger, string sessionId);

    [LoggerMessage(11, LogLevel.Error, "A SessionRevocationHub listener failed for session {SessionId}")]
    public static partial void RevocationListenerFailed(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(10, LogLevel.Information, "Player {PlayerId} registered")]
    public static partial void Registered(ILogger logger, string playerId);
}
