namespace DaprGame.Chat;

/// <summary>Channels, the ChatRoom actor, moderation and the API the gateway calls.</summary>
public static class ChatSetup
{
    public static WebApplicationBuilder AddChat(this WebApplicationBuilder builder) => builder;

    public static WebApplication MapChat(this WebApplication app) => app;
}
