using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// The <c>Bearer</c> scheme: verifies <c>Authorization: Bearer …</c> with <see cref="IAccessTokenValidator"/>, puts the
/// player on the request (<see cref="PlayerHttpContextExtensions.SetPlayer"/>) and in a <see cref="ClaimsPrincipal"/>.
/// Refusals are 401 with <c>WWW-Authenticate</c> (RFC 6750) and a ProblemDetails body; the refusal reason is logged
/// and counted, not told to the caller.
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IAccessTokenValidator validator,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";
    public const string RoleClaim = "roles";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var check = await validator.ValidateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (check.Identity is not { } player)
        {
            return AuthenticateResult.Fail(check.Error ?? "invalid_token");
        }
        Context.SetPlayer(player);
        var claims = new List<Claim>
        {
            new("sub", player.PlayerId),
            new("sid", player.SessionId),
            new("name", player.DisplayName),
        };
        claims.AddRange(player.Roles.Select(r => new Claim(RoleClaim, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, "name", RoleClaim));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var presented = result.Failure is not null;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        // RFC 6750 §3.1: no error code when the request carried no token at all.
        Response.Headers.WWWAuthenticate = presented ? "Bearer error=\"invalid_token\"" : "Bearer";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, AuthErrorCodes.InvalidToken, "Unauthorized",
            presented ? "The access token is invalid, expired or revoked." : "An access token is required.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        Response.Headers.WWWAuthenticate = "Bearer error=\"insufficient_scope\"";
        await WriteProblemAsync(StatusCodes.Status403Forbidden, AuthErrorCodes.Forbidden, "Forbidden", "This operation needs a role the caller does not have.");
    }

    private async Task WriteProblemAsync(int status, string code, string title, string detail) =>
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail, Extensions = { ["code"] = code } },
        });
}
