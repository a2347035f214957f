using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>Starts sessions and issues token pairs.</summary>
internal sealed class SignIn(Sessions sessions, Accounts accounts, AccessTokenIssuer issuer, TimeProvider time, IOptions<AuthOptions> options, GatewayAuthMetrics metrics, ILogger<SignIn> logger)
{
    public async Task<AuthTokenResponse> StartSessionAsync(PlayerRecord player, string method, CancellationToken cancellationToken)
    {
        var (session, refreshToken) = await sessions.CreateAsync(player.PlayerId, cancellationToken);
        metrics.Login(method, "ok");
        GatewayAuthLog.SignedIn(logger, player.PlayerId, method, session.SessionId);
        return await IssueAsync(player, session, refreshToken, cancellationToken);
    }

    public async Task<AuthTokenResponse> IssueAsync(PlayerRecord player, SessionRecord session, string refreshToken, CancellationToken cancellationToken)
    {
        var (accessToken, expiresAt) = await issuer.IssueAsync(player.PlayerId, session.SessionId, player.DisplayName, accounts.RolesOf(player), cancellationToken);
        var now = time.GetUtcNow();
        return new AuthTokenResponse(
            accessToken,
            "Bearer",
            (long)options.Value.AccessTokenLifetime.TotalSeconds,
            refreshToken,
            Math.Max(0, (long)(session.ExpiresAt - now).TotalSeconds),
            player.PlayerId,
            session.SessionId,
            player.DisplayName);
    }
}
