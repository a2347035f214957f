namespace DaprGame.Gateway.Realtime;

/// <summary>The player socket (<c>/ws</c>), the HTTP API for the same operations, rate limits and push fan-out.</summary>
public static class RealtimeSetup
{
    public static WebApplicationBuilder AddRealtime(this WebApplicationBuilder builder) => builder;

    public static WebApplication MapRealtime(this WebApplication app) => app;
}
