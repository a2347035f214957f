namespace DaprGame.Gateway.Auth;

/// <summary>
/// Who a verified access token speaks for. <see cref="SessionId"/> is the refresh-token family the token was issued
/// from: revoking the family (logout, refresh reuse) ends the session on every gateway.
/// </summary>
public sealed record PlayerIdentity(string PlayerId, string SessionId, string DisplayName, IReadOnlyList<string> Roles, DateTimeOffset ExpiresAt)
{
    public bool IsAdmin => Roles.Contains(GatewayRoles.Admin);
}

public static class GatewayRoles
{
    public const string Player = "player";
    public const string Admin = "admin";
}

/// <summary>The outcome of checking an access token: an identity, or a short reason it was refused.</summary>
public readonly record struct AccessTokenCheck(PlayerIdentity? Identity, string? Error)
{
    public static AccessTokenCheck Valid(PlayerIdentity identity) => new(identity, null);

    public static AccessTokenCheck Invalid(string error) => new(null, error);
}

/// <summary>
/// Verifies access tokens (signature, key id, algorithm, issuer, audience, lifetime with the allowed skew) and that
/// their session is not revoked. Used by the HTTP authentication handler and by the WebSocket handshake.
/// </summary>
public interface IAccessTokenValidator
{
    ValueTask<AccessTokenCheck> ValidateAsync(string token, CancellationToken cancellationToken);
}

/// <summary>
/// Sessions revoked anywhere (this replica or another, via the <c>player</c> topic): the realtime side listens and
/// closes the session's sockets.
/// </summary>
public sealed class SessionRevocationHub
{
    /// <summary>Raised with (player id, session id) once per revocation this replica learns of.</summary>
    public event Action<string, string>? Revoked;

    public void Raise(string playerId, string sessionId) => Revoked?.Invoke(playerId, sessionId);
}

/// <summary>The verified player of an HTTP request, put there by the gateway's bearer authentication handler.</summary>
public static class PlayerHttpContextExtensions
{
    private static readonly object s_key = new();

    /// <summary>The request's player; throws when the endpoint was not behind <c>RequireAuthorization()</c>.</summary>
    public static PlayerIdentity GetPlayer(this HttpContext context) =>
        context.Items.TryGetValue(s_key, out var value) && value is PlayerIdentity identity
            ? identity
            : throw new InvalidOperationException("No authenticated player on this request; the endpoint must require authorization.");

    public static void SetPlayer(this HttpContext context, PlayerIdentity identity) => context.Items[s_key] = identity;
}
