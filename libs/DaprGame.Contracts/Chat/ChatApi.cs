namespace DaprGame.Contracts.Chat;

// The chat service's API, called by the gateway through Dapr service invocation (app-id "chat"). The acting player
// travels in the ChatHeaders.PlayerId header, set by the gateway from a verified access token; chat trusts it only
// because access control lets no app but the gateway call these routes. Errors are ProblemDetails whose "code"
// extension is one of ChatErrorCodes.

/// <summary>Headers of gateway → chat calls.</summary>
public static class ChatHeaders
{
    public const string PlayerId = "daprgame-player-id";
}

/// <summary>Routes of the chat service.</summary>
public static class ChatRoutes
{
    /// <summary>GET: public rooms. POST <see cref="CreateChannel"/>: a room or a group.</summary>
    public const string Channels = "/v1/channels";

    /// <summary>GET: the acting player's channels.</summary>
    public const string MyChannels = "/v1/me/channels";

    /// <summary>GET: a channel's description and, for members, its presence.</summary>
    public static string Channel(string channelId) => $"/v1/channels/{channelId}";

    public static string Join(string channelId) => $"/v1/channels/{channelId}/join";

    public static string Leave(string channelId) => $"/v1/channels/{channelId}/leave";

    /// <summary>POST <see cref="PostMessage"/>; GET <c>?after={offset}&amp;limit={n}</c> pages history (<see cref="HistoryPage"/>).</summary>
    public static string Messages(string channelId) => $"/v1/channels/{channelId}/messages";

    /// <summary>PUT <see cref="EditMessage"/> (own), DELETE (own, or any as moderator).</summary>
    public static string Message(string channelId, long offset) => $"/v1/channels/{channelId}/messages/{offset}";

    /// <summary>POST <see cref="PostMessage"/> to a direct channel with another player, created on first use.</summary>
    public static string Direct(string otherPlayerId) => $"/v1/direct/{otherPlayerId}/messages";

    /// <summary>POST <see cref="MemberAction"/>: invite (group owner/moderators).</summary>
    public static string Invite(string channelId) => $"/v1/channels/{channelId}/invite";

    /// <summary>POST <see cref="MemberAction"/>: kick (moderators).</summary>
    public static string Kick(string channelId) => $"/v1/channels/{channelId}/kick";

    /// <summary>POST <see cref="RoleChange"/>: promote or demote (owner).</summary>
    public static string Role(string channelId) => $"/v1/channels/{channelId}/role";

    /// <summary>POST <see cref="Sanction"/>: mute (moderators). DELETE <c>/mute/{playerId}</c> lifts it.</summary>
    public static string Mute(string channelId) => $"/v1/channels/{channelId}/mute";

    /// <summary>POST <see cref="Sanction"/>: ban (moderators), also removes the member. DELETE <c>/ban/{playerId}</c> lifts it.</summary>
    public static string Ban(string channelId) => $"/v1/channels/{channelId}/ban";

    /// <summary>POST <see cref="MemberAction"/>: delete all of a player's messages in the channel (moderators).</summary>
    public static string Purge(string channelId) => $"/v1/channels/{channelId}/purge";

    /// <summary>POST <see cref="Report"/> (members); GET the review queue (moderators).</summary>
    public static string Reports(string channelId) => $"/v1/channels/{channelId}/reports";

    /// <summary>POST <see cref="PresenceUpdate"/>: the gateway says a player's socket is or is no longer watching the channel.</summary>
    public static string Presence(string channelId) => $"/v1/channels/{channelId}/presence";
}

/// <summary>Error codes chat returns (ProblemDetails extension <c>code</c>); the gateway passes them to clients unchanged.</summary>
public static class ChatErrorCodes
{
    public const string Invalid = "invalid";
    public const string NotFound = "not_found";
    public const string NotMember = "not_member";
    public const string Forbidden = "forbidden";
    public const string Muted = "muted";
    public const string Banned = "banned";
    public const string RateLimited = "rate_limited";
    public const string ContentRejected = "content_rejected";
    public const string Conflict = "conflict";
}

/// <summary>Create a room (<see cref="ChannelKind.Room"/>, id <c>room-{Name}</c>) or a group (<see cref="ChannelKind.Group"/>, a new id, creator is owner).</summary>
public sealed record CreateChannel(ChannelKind Kind, string Name);

public sealed record ChannelInfo(string ChannelId, ChannelKind Kind, string Name, int MemberCount, long Epoch, long Offset);

/// <summary>Who is a member and who is online now (has a socket watching the channel).</summary>
public sealed record ChannelPresence(IReadOnlyList<ChannelMember> Members, IReadOnlyList<string> Online);

public sealed record ChannelMember(string PlayerId, ChannelRole Role);

/// <summary>
/// Answer to GET <see cref="ChatRoutes.Channel"/>: the channel, the acting player's role (absent when not a member) and,
/// for members only, who is in it and online.
/// </summary>
public sealed record ChannelView(ChannelInfo Channel, ChannelRole? Role, ChannelPresence? Presence);

/// <summary>Answer to join: the channel, the acting player's role, and the latest page of its stream.</summary>
public sealed record JoinResult(ChannelInfo Channel, ChannelRole Role, HistoryPage Recent);

/// <summary>Post a message. <see cref="ClientMessageId"/> (1–64 chars) makes a resend safe.</summary>
public sealed record PostMessage(string ClientMessageId, string Text);

/// <summary>Where a message landed. <see cref="Duplicate"/> is true when this client message id was already posted.</summary>
public sealed record MessageAck(string ChannelId, long Epoch, long Offset, bool Duplicate, bool Masked);

public sealed record EditMessage(string Text);

public sealed record MemberAction(string PlayerId);

public sealed record RoleChange(string PlayerId, ChannelRole Role);

/// <summary>Mute or ban <see cref="PlayerId"/> until <see cref="Until"/> (absent: no expiry).</summary>
public sealed record Sanction(string PlayerId, DateTimeOffset? Until, string? Reason);

public sealed record Report(long Offset, string Reason);

public sealed record ReportEntry(string ReportId, string ReporterId, long Offset, string Reason, DateTimeOffset At, string? SenderId, string? Text);

public sealed record PresenceUpdate(string PlayerId, bool Online);

/// <summary>
/// A page of a channel's stream: events with offset &gt; the requested one, oldest first, at most the limit.
/// <see cref="FirstAvailableOffset"/> is the oldest offset still held; when the requested offset is older,
/// <see cref="Truncated"/> is true and the page starts at the oldest held event (the client lost some history).
/// Each event is serialized with a <c>type</c> property naming its event type (see <see cref="ChannelEvent"/>).
/// </summary>
public sealed record HistoryPage(string ChannelId, long Epoch, long LatestOffset, long FirstAvailableOffset, bool Truncated, IReadOnlyList<ChannelEvent> Events);
