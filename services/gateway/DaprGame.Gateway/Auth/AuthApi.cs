namespace DaprGame.Gateway.Auth;

/// <summary><c>POST /v1/auth/guest</c>: a device signs in as a guest; the same device always gets the same player.</summary>
/// <param name="DeviceId">10–128 characters of letters, digits, <c>-</c>, <c>_</c>, <c>.</c> and <c>:</c>.</param>
/// <param name="DisplayName">Used when the player is created: 1–32 characters, no control or format characters.</param>
public sealed record GuestRequest(string? DeviceId, string? DisplayName);

/// <summary><c>POST /v1/auth/register</c>.</summary>
/// <param name="Username">3–24 of <c>[a-zA-Z0-9_]</c>, unique ignoring case.</param>
/// <param name="Password">8–128 characters.</param>
public sealed record RegisterRequest(string? Username, string? Password, string? DisplayName);

/// <summary><c>POST /v1/auth/login</c>.</summary>
public sealed record LoginRequest(string? Username, string? Password);

/// <summary><c>POST /v1/auth/refresh</c>: trades a refresh token for a new pair; the old refresh token stops working.</summary>
public sealed record RefreshRequest(string? RefreshToken);

/// <summary>What every sign-in and refresh returns. Lifetimes are in seconds.</summary>
public sealed record AuthTokenResponse(
    string AccessToken,
    string TokenType,
    long ExpiresIn,
    string RefreshToken,
    long RefreshExpiresIn,
    string PlayerId,
    string SessionId,
    string DisplayName);

/// <summary><c>GET /v1/auth/me</c>: the caller as its access token says.</summary>
public sealed record PlayerProfileResponse(string PlayerId, string SessionId, string DisplayName, IReadOnlyList<string> Roles, DateTimeOffset ExpiresAt);

/// <summary><c>POST /v1/auth/keys/rotate</c>: the new current key and every key still verifying.</summary>
public sealed record KeyRotationResponse(string CurrentKid, IReadOnlyList<string> Kids);

/// <summary><c>GET /.well-known/jwks.json</c> (RFC 7517).</summary>
public sealed record JsonWebKeySetResponse(IReadOnlyList<JsonWebKeyResponse> Keys);

/// <summary>One public EC P-256 key (RFC 7518 §6.2).</summary>
public sealed record JsonWebKeyResponse(string Kty, string Crv, string X, string Y, string Kid, string Use, string Alg);

/// <summary>The <c>code</c> extension of the auth endpoints' ProblemDetails.</summary>
public static class AuthErrorCodes
{
    public const string Invalid = "invalid";
    public const string InvalidCredentials = "invalid_credentials";
    public const string Conflict = "conflict";
    public const string Throttled = "throttled";
    public const string InvalidToken = "invalid_token";
    public const string Forbidden = "forbidden";
}
