using System.Net.Http.Headers;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Trading;
using DaprGame.Gateway.Auth;
using DaprGame.Hosting;

namespace DaprGame.Gateway.Endpoints;

/// <summary>
/// Trading for players under <c>/v1/trading/…</c>: each request is forwarded to the trading service's
/// <c>/v1/…</c> (<see cref="TradingRoutes"/>) by Dapr service invocation, with the verified player id and roles in
/// <see cref="TradingHeaders"/> — set here from the access token and never taken from the client, whose copies of those
/// headers are dropped. Trading's answers (ProblemDetails with a <c>code</c> on refusal) come back unchanged.
/// </summary>
public static class TradingHttpEndpoints
{
    private static readonly string[] ForwardedRequestHeaders = ["content-type", "accept", TradingHeaders.IdempotencyKey, "traceparent", "tracestate"];

    public static IEndpointRouteBuilder MapTradingApi(this IEndpointRouteBuilder app)
    {
        var trading = app.MapGroup("/v1/trading").RequireAuthorization().WithTags("trading");
        trading.Map("/{**path}", ForwardAsync)
            .WithSummary("Wallet, orders, market data, settlements and direct trades of the calling player (see the trading service's routes under /v1).");
        return app;
    }

    private static async Task ForwardAsync(HttpContext context, string? path, TradingInvoker invoker)
    {
        var player = context.GetPlayer();
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), "v1/" + (path ?? "") + context.Request.QueryString.Value);
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
            if (name != "content-type" && context.Request.Headers.TryGetValue(name, out var value))
            {
                request.Headers.TryAddWithoutValidation(name, value.ToArray());
            }
        }
        request.Headers.Add(TradingHeaders.PlayerId, player.PlayerId);
        request.Headers.Add(TradingHeaders.Roles, string.Join(',', player.Roles));

        HttpResponseMessage response;
        try
        {
            response = await invoker.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            await Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: TradingErrorCodes.Unavailable, detail: "trading is unavailable; try again",
                extensions: new Dictionary<string, object?> { ["code"] = TradingErrorCodes.Unavailable }).ExecuteAsync(context);
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
}

/// <summary>One invoke client to app-id <c>trading</c> through this replica's sidecar, for the replica's lifetime.</summary>
public sealed class TradingInvoker(DaprEndpoints endpoints) : IDisposable
{
    public HttpClient Http { get; } = DaprClient.CreateInvokeHttpClient(AppIds.Trading, endpoints.Http, endpoints.ApiToken);

    public void Dispose() => Http.Dispose();
}
