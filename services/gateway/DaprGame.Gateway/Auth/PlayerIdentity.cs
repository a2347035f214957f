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
