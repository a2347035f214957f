using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DaprGame.Gateway.Auth;

/// <summary>Accounts, tokens and sessions: registration, login, refresh, logout, signing keys.</summary>
public static class AuthSetup
{
    /// <summary>The authorization policy of admin-only endpoints (role <c>admin</c>).</summary>
    public const string AdminPolicy = "admin";

    /// <summary>
    /// Registers the <c>Auth</c> options, the key ring, token issuer and <see cref="IAccessTokenValidator"/>, sessions,
    /// accounts, login throttling, the <c>Bearer</c> authentication scheme and the <c>admin</c> policy.
    /// </summary>
    public static WebApplicationBuilder AddGatewayAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>()
            .BindConfiguration("Auth")
            .PostConfigure<IConfiguration>((o, configuration) =>
            {
                // Also accept "Auth:Admins" as one comma-separated value (an environment variable is easier that way).
                if (configuration["Auth:Admins"] is { Length: > 0 } list)
                {
                    foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        o.Admins.Add(name);
                    }
                }
            })
            .Validate(o => o.AccessTokenLifetime > TimeSpan.Zero && o.RefreshTokenLifetime > o.AccessTokenLifetime,
                "Auth: AccessTokenLifetime must be positive and shorter than RefreshTokenLifetime.")
            .Validate(o => o.LoginFailuresBeforeThrottle > 0 && o.LoginFailuresPerIpBeforeThrottle > 0 && o.LoginFailureWindow > TimeSpan.Zero,
                "Auth: login throttle limits and window must be positive.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Issuer) && !string.IsNullOrWhiteSpace(o.Audience), "Auth: Issuer and Audience are required.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SessionRevocationHub>();
        services.AddSingleton<GatewayAuthMetrics>();
        services.AddSingleton<AuthState>();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton<SessionRevocations>();
        services.AddSingleton<AccessTokenIssuer>();
        services.AddSingleton<AccessTokenValidator>();
        services.AddSingleton<IAccessTokenValidator>(sp => sp.GetRequiredService<AccessTokenValidator>());
        services.AddSingleton<Sessions>();
        services.AddSingleton<Accounts>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<SignIn>();

        services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, configureOptions: null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p
                .AddAuthenticationSchemes(BearerAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(BearerAuthenticationHandler.RoleClaim, GatewayRoles.Admin));

        // Framework-made client errors on auth routes (unreadable JSON, 404, 405) carry a code like ours do; a 5xx gets none.
        services.Configure<ProblemDetailsOptions>(o => o.CustomizeProblemDetails += context =>
        {
            var path = context.HttpContext.Request.Path;
            if ((path.StartsWithSegments("/v1/auth") || path.StartsWithSegments("/.well-known"))
                && context.ProblemDetails.Status is >= 400 and < 500
                && !context.ProblemDetails.Extensions.ContainsKey("code"))
            {
                context.ProblemDetails.Extensions["code"] = context.ProblemDetails.Status switch
                {
                    StatusCodes.Status401Unauthorized => AuthErrorCodes.InvalidToken,
                    StatusCodes.Status403Forbidden => AuthErrorCodes.Forbidden,
                    StatusCodes.Status409Conflict => AuthErrorCodes.Conflict,
                    StatusCodes.Status429TooManyRequests => AuthErrorCodes.Throttled,
                    _ => AuthErrorCodes.Invalid,
                };
            }
        });
        return builder;
    }

    /// <summary>Adds authentication and authorization to the pipeline and maps the auth routes.</summary>
    public static WebApplication MapGatewayAuth(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        AuthEndpoints.Map(app);
        return app;
    }
}
