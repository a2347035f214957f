using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using DaprGame.Contracts;
using DaprGame.Contracts.Players;
using DaprGame.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DaprGame.Gateway.Auth;

/// <summary>The <c>/v1/auth</c> routes, the JWKS document and the revocation subscription.</summary>
internal static class AuthEndpoints
{
    public const string RevocationRoute = "/internal/events/player";

    // Auth bodies are a few hundred bytes; a bigger one is refused before it is read.
    private const long MaxBodyBytes = 8 * 1024;

    public static void Map(WebApplication app)
    {
        var auth = app.MapGroup("/v1/auth").WithTags("Auth");

        auth.MapPost("/guest", GuestAsync)
            .WithName("AuthGuest").WithSummary("Sign in as a guest by device id; the same device always gets the same player.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .Produces<AuthTokenResponse>().ProducesProblem(StatusCodes.Status400BadRequest);
        auth.MapPost("/register", RegisterAsync)
            .WithName("AuthRegister").WithSummary("Create an account with a username and password, and sign in.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .Produces<AuthTokenResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        auth.MapPost("/login", LoginAsync)
            .WithName("AuthLogin").WithSummary("Sign in with a username and password.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .Produces<AuthTokenResponse>().ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        auth.MapPost("/refresh", RefreshAsync)
            .WithName("AuthRefresh").WithSummary("Trade a refresh token for new tokens; reusing an old refresh token revokes the session.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .Produces<AuthTokenResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);
        auth.MapPost("/logout", LogoutAsync)
            .WithName("AuthLogout").WithSummary("Revoke the caller's session: its refresh and access tokens stop working everywhere.")
            .RequireAuthorization()
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status401Unauthorized);
        auth.MapGet("/me", Me)
            .WithName("AuthMe").WithSummary("The caller's player id, session, display name and roles.")
            .RequireAuthorization()
            .Produces<PlayerProfileResponse>().ProducesProblem(StatusCodes.Status401Unauthorized);
        auth.MapPost("/keys/rotate", RotateKeysAsync)
            .WithName("AuthRotateKeys").WithSummary("Make a new signing key current; the previous one verifies until its tokens expire. Admin only.")
            .RequireAuthorization(AuthSetup.AdminPolicy)
            .Produces<KeyRotationResponse>().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

        app.MapGet("/.well-known/jwks.json", JwksAsync)
            .WithName("AuthJwks").WithSummary("The public keys that verify access tokens (JWK, EC P-256).").WithTags("Auth")
            .Produces<JsonWebKeySetResponse>();

        // Revocations made by other replicas (and this one's own, which are already known and ignored).
        app.MapPost(RevocationRoute, OnPlayerEventAsync)
            .WithTopic(Components.Broadcast, Topics.Players)
            .ExcludeFromDescription();
    }

    private static async Task<Results<Ok<AuthTokenResponse>, ProblemHttpResult>> GuestAsync(
        GuestRequest request, Accounts accounts, SignIn signIn, CancellationToken cancellationToken)
    {
        if (!AuthValidation.IsDeviceId(request.DeviceId))
        {
            return Invalid("deviceId must be 10–128 characters of letters, digits, '-', '_', '.' or ':'.");
        }
        if (!AuthValidation.TryDisplayName(request.DisplayName, out var displayName))
        {
            return Invalid(AuthValidation.DisplayNameRule);
        }
        var player = await accounts.GuestAsync(request.DeviceId!, displayName, cancellationToken);
        return TypedResults.Ok(await signIn.StartSessionAsync(player, "guest", cancellationToken));
    }

    private static async Task<Results<Ok<AuthTokenResponse>, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, Accounts accounts, SignIn signIn, CancellationToken cancellationToken)
    {
        if (!AuthValidation.IsUsername(request.Username))
        {
            return Invalid("username must be 3–24 characters of letters, digits or '_'.");
        }
        if (!AuthValidation.IsPassword(request.Password))
        {
            return Invalid("password must be 8–128 characters.");
        }
        if (!AuthValidation.TryDisplayName(request.DisplayName, out var displayName))
        {
            return Invalid(AuthValidation.DisplayNameRule);
        }
        var player = await accounts.RegisterAsync(request.Username!, request.Password!, displayName, cancellationToken);
        if (player is null)
        {
            return Problem(StatusCodes.Status409Conflict, AuthErrorCodes.Conflict, "Username taken", "That username is already registered.");
        }
        return TypedResults.Ok(await signIn.StartSessionAsync(player, "register", cancellationToken));
    }

    private static async Task<Results<Ok<AuthTokenResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, HttpContext http, Accounts accounts, LoginThrottle throttle, SignIn signIn,
        GatewayAuthMetrics metrics, ILogger<SignIn> logger, CancellationToken cancellationToken)
    {
        if (request.Username is null || request.Password is null)
        {
            return Invalid("username and password are required.");
        }
        // Malformed names count and fail like unknown ones, and are never hashed into a state key as given.
        var wellFormed = AuthValidation.IsUsername(request.Username) && request.Password.Length <= AuthValidation.MaxPassword;
        var usernameLower = wellFormed ? request.Username.ToLowerInvariant() : "_";
        var address = http.Connection.RemoteIpAddress?.ToString();

        if (await throttle.RetryAfterAsync(usernameLower, address, cancellationToken) is { } wait)
        {
            metrics.Login("password", "throttled");
            GatewayAuthLog.LoginRefused(logger, "throttled");
            http.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Problem(StatusCodes.Status429TooManyRequests, AuthErrorCodes.Throttled, "Too many failed logins", "Too many failed logins; try again later.");
        }

        var player = wellFormed ? await accounts.LoginAsync(request.Username, request.Password, cancellationToken) : null;
        if (player is null)
        {
            await throttle.RecordFailureAsync(usernameLower, address, cancellationToken);
            metrics.Login("password", "invalid_credentials");
            GatewayAuthLog.LoginRefused(logger, "invalid_credentials");
            return Problem(StatusCodes.Status401Unauthorized, AuthErrorCodes.InvalidCredentials, "Invalid credentials", "The username or password is wrong.");
        }
        await throttle.ResetAsync(usernameLower, cancellationToken);
        return TypedResults.Ok(await signIn.StartSessionAsync(player, "password", cancellationToken));
    }

    private static async Task<Results<Ok<AuthTokenResponse>, ProblemHttpResult>> RefreshAsync(
        RefreshRequest request, Sessions sessions, Accounts accounts, SignIn signIn, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RefreshToken))
        {
            return Invalid("refreshToken is required.");
        }
        var outcome = await sessions.RefreshAsync(request.RefreshToken, cancellationToken);
        if (outcome is not { Status: RefreshStatus.Rotated, Session: { } session, RefreshToken: { } refreshToken }
            || await accounts.FindPlayerAsync(session.PlayerId, cancellationToken) is not { } player)
        {
            return Problem(StatusCodes.Status401Unauthorized, AuthErrorCodes.InvalidToken, "Invalid refresh token", "The refresh token is invalid, expired or revoked.");
        }
        return TypedResults.Ok(await signIn.IssueAsync(player, session, refreshToken, cancellationToken));
    }

    private static async Task<NoContent> LogoutAsync(HttpContext http, Sessions sessions, CancellationToken cancellationToken)
    {
        await sessions.RevokeAsync(http.GetPlayer().SessionId, RevocationReasons.Logout, cancellationToken);
        return TypedResults.NoContent();
    }

    private static Ok<PlayerProfileResponse> Me(HttpContext http)
    {
        var player = http.GetPlayer();
        return TypedResults.Ok(new PlayerProfileResponse(player.PlayerId, player.SessionId, player.DisplayName, player.Roles, player.ExpiresAt));
    }

    private static async Task<Ok<KeyRotationResponse>> RotateKeysAsync(SigningKeyRing ring, CancellationToken cancellationToken)
    {
        var current = await ring.RotateAsync(cancellationToken);
        var keys = await ring.GetVerificationKeysAsync(cancellationToken);
        return TypedResults.Ok(new KeyRotationResponse(current.Kid, [.. keys.Select(k => k.Kid)]));
    }

    private static async Task<Ok<JsonWebKeySetResponse>> JwksAsync(HttpContext http, SigningKeyRing ring, CancellationToken cancellationToken)
    {
        var keys = await ring.GetVerificationKeysAsync(cancellationToken);
        // Short: a client that meets an unknown kid refetches anyway, and a rotation must reach clients quickly.
        http.Response.Headers.CacheControl = "public, max-age=60";
        return TypedResults.Ok(new JsonWebKeySetResponse([.. keys.Select(k =>
        {
            var p = k.Key.ExportParameters(includePrivateParameters: false);
            return new JsonWebKeyResponse("EC", "P-256", Base64Url.EncodeToString(p.Q.X), Base64Url.EncodeToString(p.Q.Y), k.Kid, "sig", Jwt.Algorithm);
        })]));
    }

    /// <summary>
    /// A revocation seen on the <c>player</c> topic. This route is reachable by anyone who can reach the app port, so
    /// the event is only a hint: the session record decides.
    /// </summary>
    private static async Task<Ok> OnPlayerEventAsync(JsonElement body, AuthState state, SessionRevocations revocations, ILogger<SignIn> logger, CancellationToken cancellationToken)
    {
        PlayerSessionRevoked? revoked;
        try
        {
            revoked = body.Deserialize<PlayerSessionRevoked>(ServiceDefaults.JsonOptions);
        }
        catch (JsonException)
        {
            // Another player.* event, or junk: nothing to do, and nothing to redeliver.
            return TypedResults.Ok();
        }
        if (revoked is null || !AuthIds.IsSessionId(revoked.SessionId))
        {
            return TypedResults.Ok();
        }
        var session = await state.GetAsync<SessionRecord>(AuthState.SessionKey(revoked.SessionId), cancellationToken);
        if (session is { Revoked: true } && session.PlayerId == revoked.PlayerId)
        {
            revocations.Learn(session.PlayerId, session.SessionId);
        }
        else
        {
            GatewayAuthLog.RevocationEventUnconfirmed(logger, revoked.SessionId);
        }
        return TypedResults.Ok();
    }

    private static ProblemHttpResult Invalid(string detail) =>
        Problem(StatusCodes.Status400BadRequest, AuthErrorCodes.Invalid, "Invalid request", detail);

    internal static ProblemHttpResult Problem(int status, string code, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title, extensions: new Dictionary<string, object?> { ["code"] = code });
}
