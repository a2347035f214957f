using DaprGame.Contracts.Chat;
using DaprGame.Gateway.Auth;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Endpoints;

/// <summary>
/// The chat operations over HTTP under <c>/v1/chat</c>, for clients that do not keep a socket (bots, tools, a page
/// before it connects). Every route requires a bearer token, runs the same validators, rate limits and chat calls as
/// the socket, and answers errors as ProblemDetails with a <c>code</c> extension.
/// </summary>
public static class ChatHttpEndpoints
{
    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        var chat = app.MapGroup("/v1/chat")
            .RequireAuthorization()
            .WithTags("chat")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        chat.MapGet("/channels", (HttpContext c, ChatApi api) =>
                api.RunAsync(c, new ChannelsListCommand()))
            .Produces<IReadOnlyList<ChannelInfo>>().WithSummary("Public rooms.");

        chat.MapGet("/me/channels", (HttpContext c, ChatApi api) =>
                api.RunAsync(c, new ChannelsMineCommand()))
            .Produces<IReadOnlyList<ChannelInfo>>().WithSummary("The caller's channels.");

        chat.MapPost("/channels", (HttpContext c, ChatApi api, CreateChannelBody body) =>
                api.RunAsync(c, new ChannelCreateCommand { Kind = body.Kind, ChannelName = body.Name }))
            .Produces<ChannelInfo>().WithSummary("Create a room or a group.");

        chat.MapGet("/channels/{channelId}", (HttpContext c, ChatApi api, string channelId) =>
                api.RunAsync(c, new ChannelGetCommand { ChannelId = channelId }))
            .WithSummary("A channel's description and, for members, its presence.");

        chat.MapPost("/channels/{channelId}/join", (HttpContext c, ChatApi api, string channelId) =>
                api.RunAsync(c, new ChannelJoinCommand { ChannelId = channelId }))
            .Produces<JoinResult>().WithSummary("Join a room.");

        chat.MapPost("/channels/{channelId}/leave", (HttpContext c, ChatApi api, string channelId) =>
                api.RunAsync(c, new ChannelLeaveCommand { ChannelId = channelId }))
            .WithSummary("Leave a channel.");

        chat.MapGet("/channels/{channelId}/messages", (HttpContext c, ChatApi api, string channelId, long? after, int? limit) =>
                api.RunAsync(c, new ChannelHistoryCommand { ChannelId = channelId, After = after, Limit = limit }))
            .Produces<HistoryPage>().WithSummary("A page of history: events after an offset, oldest first (limit 1–200, default 50).");

        chat.MapPost("/channels/{channelId}/messages", (HttpContext c, ChatApi api, string channelId, SendBody body) =>
                api.RunAsync(c, new MessageSendCommand { ChannelId = channelId, ClientMessageId = body.ClientMessageId, Text = body.Text }))
            .Produces<MessageAck>().WithSummary("Post a message; a resend with the same clientMessageId is not posted twice.");

        chat.MapPut("/channels/{channelId}/messages/{offset:long}", (HttpContext c, ChatApi api, string channelId, long offset, TextBody body) =>
                api.RunAsync(c, new MessageEditCommand { ChannelId = channelId, Offset = offset, Text = body.Text }))
            .WithSummary("Edit one's own message.");

        chat.MapDelete("/channels/{channelId}/messages/{offset:long}", (HttpContext c, ChatApi api, string channelId, long offset) =>
                api.RunAsync(c, new MessageDeleteCommand { ChannelId = channelId, Offset = offset }))
            .WithSummary("Delete one's own message, or any as a moderator.");

        chat.MapPost("/direct/{playerId}/messages", (HttpContext c, ChatApi api, string playerId, SendBody body) =>
                api.RunAsync(c, new DirectSendCommand { PlayerId = playerId, ClientMessageId = body.ClientMessageId, Text = body.Text }))
            .Produces<MessageAck>().WithSummary("Send a direct message; the direct channel is created on first use.");

        chat.MapPost("/channels/{channelId}/invite", (HttpContext c, ChatApi api, string channelId, PlayerBody body) =>
                api.RunAsync(c, new MemberInviteCommand { ChannelId = channelId, PlayerId = body.PlayerId }))
            .WithSummary("Invite a player into a group.");

        chat.MapPost("/channels/{channelId}/kick", (HttpContext c, ChatApi api, string channelId, PlayerBody body) =>
                api.RunAsync(c, new MemberKickCommand { ChannelId = channelId, PlayerId = body.PlayerId }))
            .WithSummary("Remove a member (moderators).");

        chat.MapPost("/channels/{channelId}/role", (HttpContext c, ChatApi api, string channelId, RoleBody body) =>
                api.RunAsync(c, new MemberRoleCommand { ChannelId = channelId, PlayerId = body.PlayerId, Role = body.Role }))
            .WithSummary("Promote or demote a member (owner).");

        chat.MapPost("/channels/{channelId}/mute", (HttpContext c, ChatApi api, string channelId, SanctionBody body) =>
                api.RunAsync(c, new MuteCommand { ChannelId = channelId, PlayerId = body.PlayerId, Until = body.Until, Reason = body.Reason }))
            .WithSummary("Mute a member, optionally until a time.");

        chat.MapDelete("/channels/{channelId}/mute/{playerId}", (HttpContext c, ChatApi api, string channelId, string playerId) =>
                api.RunAsync(c, new UnmuteCommand { ChannelId = channelId, PlayerId = playerId }))
            .WithSummary("Lift a mute.");

        chat.MapPost("/channels/{channelId}/ban", (HttpContext c, ChatApi api, string channelId, SanctionBody body) =>
                api.RunAsync(c, new BanCommand { ChannelId = channelId, PlayerId = body.PlayerId, Until = body.Until, Reason = body.Reason }))
            .WithSummary("Ban a player (also removes them), optionally until a time.");

        chat.MapDelete("/channels/{channelId}/ban/{playerId}", (HttpContext c, ChatApi api, string channelId, string playerId) =>
                api.RunAsync(c, new UnbanCommand { ChannelId = channelId, PlayerId = playerId }))
            .WithSummary("Lift a ban.");

        chat.MapPost("/channels/{channelId}/purge", (HttpContext c, ChatApi api, string channelId, PlayerBody body) =>
                api.RunAsync(c, new PurgeCommand { ChannelId = channelId, PlayerId = body.PlayerId }))
            .WithSummary("Delete all of a player's messages in the channel (moderators).");

        chat.MapPost("/channels/{channelId}/reports", (HttpContext c, ChatApi api, string channelId, ReportBody body) =>
                api.RunAsync(c, new ReportCreateCommand { ChannelId = channelId, Offset = body.Offset, Reason = body.Reason }))
            .WithSummary("Report a message to the channel's moderators.");

        chat.MapGet("/channels/{channelId}/reports", (HttpContext c, ChatApi api, string channelId) =>
                api.RunAsync(c, new ReportsListCommand { ChannelId = channelId }))
            .Produces<IReadOnlyList<ReportEntry>>().WithSummary("The review queue (moderators).");

        return app;
    }
}

/// <summary>Validates, rate limits and runs one HTTP chat request for the authenticated player.</summary>
public sealed class ChatApi(ChatOperations operations, RateLimiter limiter, GatewayMetrics metrics)
{
    public async Task<IResult> RunAsync(HttpContext context, Command command)
    {
        var player = context.GetPlayer();
        if (command.Validate() is { } invalid)
        {
            return Problem(StatusCodes.Status400BadRequest, GatewayErrorCodes.Invalid, invalid);
        }
        var decision = limiter.TryAcquire(player.PlayerId, command.RateClass);
        if (!decision.Allowed)
        {
            metrics.RateLimited(command.RateClass);
            context.Response.Headers.RetryAfter = Math.Max(1, (decision.RetryAfterMs + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problem(StatusCodes.Status429TooManyRequests, GatewayErrorCodes.RateLimited, "Too many requests; retry later.", decision.RetryAfterMs);
        }
        var result = await operations.ExecuteAsync(player, command, context.RequestAborted);
        if (result.Error is { } error)
        {
            var status = error.Status is >= 400 and < 600 ? error.Status : StatusCodes.Status502BadGateway;
            return Problem(status, error.Code, error.Message);
        }
        return result.Data is null ? Results.NoContent() : Results.Ok(result.Data);
    }

    private static IResult Problem(int status, string code, string detail, long? retryAfterMs = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (retryAfterMs is { } ms)
        {
            extensions["retryAfterMs"] = ms;
        }
        return Results.Problem(statusCode: status, detail: detail, extensions: extensions);
    }
}

public sealed record CreateChannelBody(ChannelKind? Kind, string? Name);

public sealed record SendBody(string? ClientMessageId, string? Text);

public sealed record TextBody(string? Text);

public sealed record PlayerBody(string? PlayerId);

public sealed record RoleBody(string? PlayerId, ChannelRole? Role);

public sealed record SanctionBody(string? PlayerId, DateTimeOffset? Until, string? Reason);

public sealed record ReportBody(long? Offset, string? Reason);
