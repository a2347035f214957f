namespace DaprGame.Gateway.Auth;

/// <summary>
/// Settings of the <c>Auth</c> configuration section. Every replica of the gateway must share them (issuer, audience,
/// lifetimes and admins decide what every replica accepts).
/// </summary>
public sealed class AuthOptions
{
    /// <summary>The most clock skew any replica may allow: more would let expired tokens live noticeably longer.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(30);

    public string Issuer { get; set; } = "daprgame";

    public string Audience { get; set; } = "daprgame-clients";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>As configured; read <see cref="EffectiveClockSkew"/>, which is capped at <see cref="MaxClockSkew"/>.</summary>
    public TimeSpan ClockSkew { get; set; } = MaxClockSkew;

    public TimeSpan EffectiveClockSkew =>
        ClockSkew < TimeSpan.Zero ? TimeSpan.Zero : ClockSkew > MaxClockSkew ? MaxClockSkew : ClockSkew;

    /// <summary>PBKDF2-HMAC-SHA256 iterations for new password hashes; stored per account, so raising it later is safe.</summary>
    public int Pbkdf2Iterations { get; set; } = 600_000;

    public int LoginFailuresBeforeThrottle { get; set; } = 5;

    /// <summary>Failed logins from one client address (any usernames) before that address is throttled.</summary>
    public int LoginFailuresPerIpBeforeThrottle { get; set; } = 20;

    public TimeSpan LoginFailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Usernames (case-insensitive) whose tokens carry the <c>admin</c> role.</summary>
    public IList<string> Admins { get; } = [];

    /// <summary>How often a replica re-reads the signing key ring, so a rotation elsewhere reaches it.</summary>
    public TimeSpan KeyRingRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Least time between two key-ring reads caused by an unknown <c>kid</c> (forged kids must not flood the store).</summary>
    public TimeSpan UnknownKidRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a replica trusts a session it found not revoked before reading its record again.</summary>
    public TimeSpan SessionCacheDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a retired signing key keeps validating: a token it signed lives at most an access-token lifetime, plus
    /// the skew, plus one ring refresh interval during which another replica may still sign with it.
    /// </summary>
    public TimeSpan RetiredKeyRetention => AccessTokenLifetime + EffectiveClockSkew + KeyRingRefreshInterval;

    public bool IsAdmin(string? username) =>
        username is not null && Admins.Any(a => string.Equals(a.Trim(), username, StringComparison.OrdinalIgnoreCase));
}
