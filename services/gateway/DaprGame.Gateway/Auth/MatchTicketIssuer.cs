using DaprGame.Contracts.Combat;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// Issues match tickets (<see cref="CombatTickets"/>): compact JWS signed ES256 with the current key of the same ring
/// as access tokens, so combat verifies them with the JWKS it already trusts. Audience <c>combat</c>, claims sub
/// (player), mid (match), iat, nbf, exp (30 s), jti (combat accepts each ticket once).
/// </summary>
internal sealed class MatchTicketIssuer(SigningKeyRing ring, TimeProvider time, IOptions<AuthOptions> options)
{
    public async Task<(string Ticket, DateTimeOffset ExpiresAt)> IssueAsync(string playerId, string matchId, CancellationToken cancellationToken)
    {
        var key = await ring.GetCurrentAsync(cancellationToken);
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var expires = now + CombatTickets.Lifetime;
        var ticket = Jwt.Sign(key, CombatTickets.Type, w =>
        {
            w.WriteString("iss", options.Value.Issuer);
            w.WriteString("aud", CombatTickets.Audience);
            w.WriteString("sub", playerId);
            w.WriteString(CombatTickets.MatchClaim, matchId);
            w.WriteNumber("iat", now.ToUnixTimeSeconds());
            w.WriteNumber("nbf", now.ToUnixTimeSeconds());
            w.WriteNumber("exp", expires.ToUnixTimeSeconds());
            w.WriteString("jti", AuthIds.NewTokenId());
        });
        return (ticket, expires);
    }
}
