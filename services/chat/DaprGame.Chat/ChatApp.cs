using DaprGame.Hosting;

namespace DaprGame.Chat;

/// <summary>The chat service's table of contents; tests build it in-process with their own configuration.</summary>
public static class ChatApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        builder.AddChat();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapServiceDefaults();
        app.MapChat();
        return app;
    }
}
