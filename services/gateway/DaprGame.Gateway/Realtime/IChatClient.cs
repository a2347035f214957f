using System.Text.Json;
using DaprGame.Contracts.Chat;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// The chat service as the gateway sees it: one method per chat route (<see cref="ChatRoutes"/>), each acting as
/// <c>playerId</c>. Failures never throw: they come back as a <see cref="ChatError"/> whose code is chat's own
/// (<see cref="ChatErrorCodes"/>), passed to clients unchanged, or <see cref="GatewayErrorCodes.Unavailable"/> when chat
/// could not be reached. Calls whose answer the gateway does not interpret return chat's JSON as it came.
/// </summary>
public interface IChatClient
{
    Task<ChatResult<IReadOnlyList<ChannelInfo>>> ListChannelsAsync(string playerId, CancellationToken cancellationToken);

    Task<ChatResult<IReadOnlyList<ChannelInfo>>> MyChannelsAsync(string playerId, CancellationToken cancellationToken);

    Task<ChatResult<ChannelInfo>> CreateChannelAsync(string playerId, CreateChannel request, CancellationToken cancellationToken);

    /// <summary>The channel's description and, for members, presence, as chat returns it.</summary>
    Task<ChatResult<JsonElement>> GetChannelAsync(string playerId, string channelId, CancellationToken cancellationToken);

    Task<ChatResult<JoinResult>> JoinAsync(string playerId, string channelId, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> LeaveAsync(string playerId, string channelId, CancellationToken cancellationToken);

    Task<ChatResult<HistoryPage>> HistoryAsync(string playerId, string channelId, long after, int limit, CancellationToken cancellationToken);

    Task<ChatResult<MessageAck>> PostAsync(string playerId, string channelId, PostMessage request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> EditAsync(string playerId, string channelId, long offset, EditMessage request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> DeleteAsync(string playerId, string channelId, long offset, CancellationToken cancellationToken);

    Task<ChatResult<MessageAck>> PostDirectAsync(string playerId, string otherPlayerId, PostMessage request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> InviteAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> KickAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> SetRoleAsync(string playerId, string channelId, RoleChange request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> MuteAsync(string playerId, string channelId, Sanction request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> UnmuteAsync(string playerId, string channelId, string targetPlayerId, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> BanAsync(string playerId, string channelId, Sanction request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> UnbanAsync(string playerId, string channelId, string targetPlayerId, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> PurgeAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken);

    Task<ChatResult<JsonElement>> ReportAsync(string playerId, string channelId, Report request, CancellationToken cancellationToken);

    Task<ChatResult<IReadOnlyList<ReportEntry>>> ListReportsAsync(string playerId, string channelId, CancellationToken cancellationToken);

    /// <summary>Tells chat whether the update's player has a socket watching the channel (chat expires it after 90 s).</summary>
    Task<ChatResult<JsonElement>> SetPresenceAsync(string channelId, PresenceUpdate update, CancellationToken cancellationToken);
}

/// <summary>A refused or failed chat call: a machine-readable code, a human message, and the HTTP status chat gave.</summary>
public sealed record ChatError(string Code, string Message, int Status);

/// <summary>Either chat's answer or the reason there is none.</summary>
public readonly record struct ChatResult<T>(T? Value, ChatError? Error)
{
    public bool Ok => Error is null;

    public static implicit operator ChatResult<T>(ChatError error) => new(default, error);
}

/// <summary>Error codes the gateway itself produces (frames and ProblemDetails <c>code</c>), beside chat's <see cref="ChatErrorCodes"/>.</summary>
public static class GatewayErrorCodes
{
    /// <summary>The frame is not a JSON object with a string <c>type</c>.</summary>
    public const string BadRequest = "bad_request";

    public const string UnknownType = "unknown_type";

    /// <summary>A field is missing, of the wrong kind, or out of range.</summary>
    public const string Invalid = "invalid";

    public const string RateLimited = "rate_limited";

    /// <summary>The resume token is unknown, expired, or belongs to another player.</summary>
    public const string ResumeExpired = "resume_expired";

    /// <summary>Chat could not be reached or failed; retry later.</summary>
    public const string Unavailable = "unavailable";
}
