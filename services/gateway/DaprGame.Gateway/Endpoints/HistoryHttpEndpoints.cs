using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Persistence;
using DaprGame.Gateway.Auth;
using DaprGame.Gateway.Realtime;
using DaprGame.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DaprGame.Gateway.Endpoints;

/// <summary>
/// A player's history from the persistence service's views, under <c>/v1/history</c>: their own profile, matches and
/// trades (the player id comes from the access token, never from the request), a channel's messages older than chat's
/// window — for members only: chat is asked first, with the player's identity, and its refusal is the answer — and an
/// instrument's public candles. Persistence's admin routes are never reachable from here.
/// </summary>
public static class HistoryHttpEndpoints
{
    public static WebApplicationBuilder AddHistoryApi(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<PersistenceInvoker>();
        return builder;
    }

    public static IEndpointRouteBuilder MapHistoryApi(this IEndpointRouteBuilder app)
    {
        var history = app.MapGroup("/v1/history").RequireAuthorization().WithTags("history");
        history.MapGet("/me/profile", (HttpContext c, PersistenceInvoker p) => ForwardAsync(c, p, PersistenceRoutes.Profile(c.GetPlayer().PlayerId)))
            .WithSummary("The caller's profile as the event log has it: balances, inventory count, match stats.");
        history.MapGet("/me/matches", (HttpContext c, PersistenceInvoker p, int? limit) =>
                ForwardAsync(c, p, PersistenceRoutes.Matches(c.GetPlayer().PlayerId) + Query(("limit", limit))))
            .WithSummary("The caller's finished matches, newest first (limit 1–200, default 50).");
        history.MapGet("/me/trades", (HttpContext c, PersistenceInvoker p, int? limit) =>
                ForwardAsync(c, p, PersistenceRoutes.Trades(c.GetPlayer().PlayerId) + Query(("limit", limit))))
            .WithSummary("The caller's fills, newest first (limit 1–200, default 50).");
        history.MapGet("/channels/{channelId}/messages", ChannelMessagesAsync)
            .WithSummary("A channel's messages from an offset (older than chat's window too), for its members (limit 1–200).");
        history.MapGet("/instruments/{instrument}/candles", (HttpContext c, PersistenceInvoker p, string instrument, int? limit) =>
                ForwardAsync(c, p, PersistenceRoutes.Candles(instrument) + Query(("limit", limit))))
            .WithSummary("One-minute candles of an instrument, newest first.");
        return app;
    }

    private static async Task ChannelMessagesAsync(HttpContext context, PersistenceInvoker persistence, IChatClient chat, string channelId, long? from, int? limit)
    {
        // Membership is chat's to decide: a page of its own history is refused to non-members exactly as chat refuses it.
        var member = await chat.HistoryAsync(context.GetPlayer().PlayerId, channelId, 0, 1, context.RequestAborted);
        if (member.Error is { } error)
        {
            await Results.Problem(statusCode: error.Status, title: error.Code, detail: error.Message,
                extensions: new Dictionary<string, object?> { ["code"] = error.Code }).ExecuteAsync(context);
            return;
        }
        await ForwardAsync(context, persistence, PersistenceRoutes.ChannelMessages(channelId) + Query(("from", from), ("limit", limit)));
    }

    private static async Task ForwardAsync(HttpContext context, PersistenceInvoker persistence, string route)
    {
        HttpResponseMessage response;
        try
        {
            response = await persistence.Http.GetAsync(route.TrimStart('/'), HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            await Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "unavailable", detail: "history is unavailable; try again",
                extensions: new Dictionary<string, object?> { ["code"] = "unavailable" }).ExecuteAsync(context);
            return;
        }
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } contentType)
            {
                context.Response.ContentType = contentType.ToString();
            }
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    private static string Query(params (string Name, object? Value)[] parameters)
    {
        var parts = parameters.Where(p => p.Value is not null)
            .Select(p => $"{p.Name}={Uri.EscapeDataString(Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture)!)}").ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}

/// <summary>One invoke client to app-id <c>persistence</c> through this replica's sidecar, for the replica's lifetime.</summary>
public sealed class PersistenceInvoker(DaprEndpoints endpoints) : IDisposable
{
    public HttpClient Http { get; } = DaprClient.CreateInvokeHttpClient(AppIds.Persistence, endpoints.Http, endpoints.ApiToken);

    public void Dispose() => Http.Dispose();
}
