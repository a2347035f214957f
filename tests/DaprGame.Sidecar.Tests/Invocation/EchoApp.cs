using System.Text.Json;
using DaprGame.Sidecar.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Tests.Invocation;

/// <summary>What the echo app saw of one request.</summary>
public sealed record EchoReply(string Instance, string Method, string Path, string Query, Dictionary<string, string> Headers, string Body);

/// <summary>
/// An ASP.NET Core app on a real loopback port, registered the way a Dapr.AspNetCore service is (controllers plus
/// the Dapr client), that answers every verb on every path with what it received. <c>x-want-status</c> sets the
/// status code; the reply always carries <c>x-echo-reply</c>.
/// </summary>
public sealed class EchoApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoApp(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public static async Task<EchoApp> StartAsync(string instance)
    {
        var port = SidecarHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddControllers().AddDapr();
        var app = builder.Build();
        app.Map("/{**path}", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (k, v) in context.Request.Headers)
            {
                headers[k] = v.ToString();
            }
            if (context.Request.Headers["x-want-status"] is { Count: > 0 } status)
            {
                context.Response.StatusCode = int.Parse(status.ToString(), System.Globalization.CultureInfo.InvariantCulture);
            }
            context.Response.Headers["x-echo-reply"] = "yes";
            context.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(context.Response.Body,
                new EchoReply(instance, context.Request.Method, context.Request.Path, context.Request.QueryString.Value ?? "", headers, body),
                cancellationToken: context.RequestAborted);
        });
        await app.StartAsync();
        return new EchoApp(app, port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
