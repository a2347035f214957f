namespace DaprGame.Gateway.Auth;

/// <summary>Accounts, tokens and sessions: registration, login, refresh, logout, signing keys.</summary>
public static class AuthSetup
{
    public static WebApplicationBuilder AddGatewayAuth(this WebApplicationBuilder builder) => builder;

    public static WebApplication MapGatewayAuth(this WebApplication app) => app;
}
