using System.Net.Http.Headers;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;
using DaprGame.Gateway.Auth;
using DaprGame.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DaprGame.Gateway.Endpoints;

/// <summary>
/// Combat for players under <c>/v1/combat/…</c>, forwarded to the combat service's <c>/v1/…</c>
/// (<see cref="CombatRoutes"/>) by Dapr service invocation, with the verified player id and roles in
/// <see cref="CombatHeaders"/> — set here from the access token, never taken from the client. Joining is the one route
/// the gateway adds to: combat seats the player, and the gateway signs a short-lived match ticket for the replica that
/// runs the match (<see cref="JoinTicket"/>).
/// </summary>
public static class CombatHttpEndpoints
{
    private static readonly string[] ForwardedRequestHeaders = ["accept", "traceparent", "tracestate"];

    /// <summary>The combat invoke client and the match ticket issuer (it signs with the auth key ring).</summary>
    public static WebApplicationBuilder AddCombatApi(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<CombatInvoker>();
        builder.Services.TryAddSingleton<MatchTicketIssuer>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCombatApi(this IEndpointRouteBuilder app)
    {
        var combat = app.MapGroup("/v1/combat").RequireAuthorization().WithTags("combat");
        combat.MapPost("/matches/{matchId}/join", JoinAsync)
            .WithSummary("Join a match: a seat, the match socket address and a 30-second ticket for it.");
        combat.Map("/{**path}", ForwardAsync)
            .WithSummary("Create, read, start, end and leave matches; admins list them and verify replays (see the combat service's routes under /v1).");
        return app;
    }

    private static async Task JoinAsync(HttpContext context, string matchId, CombatInvoker invoker, MatchTicketIssuer issuer)
    {
        var player = context.GetPlayer();
        using var request = Request(HttpMethod.Post, CombatRoutes.Join(matchId).TrimStart('/'), player);
        using var response = await SendAsync(context, invoker, request);
        if (response is null)
        {
            return;
        }
        if (!response.IsSuccessStatusCode)
        {
            await CopyAsync(context, response);
            return;
        }
        var joined = await response.Content.ReadFromJsonAsync<JoinView>(ServiceDefaults.JsonOptions, context.RequestAborted);
        var (ticket, expires) = await issuer.IssueAsync(player.PlayerId, joined!.MatchId, context.RequestAborted);
        await Results.Ok(new JoinTicket(joined.MatchId, joined.PlayerId, joined.Slot, joined.Team, joined.Entity, joined.Status, joined.TickRate,
            joined.Address, ticket, expires)).ExecuteAsync(context);
    }

    private static async Task ForwardAsync(HttpContext context, string? path, CombatInvoker invoker)
    {
        using var request = Request(new HttpMethod(context.Request.Method), "v1/" + (path ?? "") + context.Request.QueryString.Value, context.GetPlayer());
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            body.Position = 0;
            request.Content = new StreamContent(body);
            if (context.Request.ContentType is { } type)
            {
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
            }
        }
        foreach (var name in ForwardedRequestHeaders)
        {
            if (context.Request.Headers.TryGetValue(name, out var value))
            {
                request.Headers.TryAddWithoutValidation(name, value.ToArray());
            }
        }
        using var response = await SendAsync(context, invoker, request);
        if (response is not null)
        {
            await CopyAsync(context, response);
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, PlayerIdentity player)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add(CombatHeaders.PlayerId, player.PlayerId);
        request.Headers.Add(CombatHeaders.Roles, string.Join(',', player.Roles));
        return request;
    }

    /// <summary>Null when combat could not be reached (a 503 with code <c>unavailable</c> is written).</summary>
    private static async Task<HttpResponseMessage?> SendAsync(HttpContext context, CombatInvoker invoker, HttpRequestMessage request)
    {
        try
        {
            return await invoker.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            await Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: CombatErrorCodes.Unavailable, detail: "combat is unavailable; try again",
                extensions: new Dictionary<string, object?> { ["code"] = CombatErrorCodes.Unavailable }).ExecuteAsync(context);
            return null;
        }
    }

    private static async Task CopyAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } contentType)
        {
            context.Response.ContentType = contentType.ToString();
        }
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}

/// <summary>One invoke client to app-id <c>combat</c> through this replica's sidecar, for the replica's lifetime.</summary>
public sealed class CombatInvoker(DaprEndpoints endpoints) : IDisposable
{
    public HttpClient Http { get; } = DaprClient.CreateInvokeHttpClient(AppIds.Combat, endpoints.Http, endpoints.ApiToken);

    public void Dispose() => Http.Dispose();
}
