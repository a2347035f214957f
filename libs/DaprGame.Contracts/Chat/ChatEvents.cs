using System.Text.Json.Serialization;

namespace DaprGame.Contracts.Chat;

/// <summary>The three kinds of channel.</summary>
public enum ChannelKind
{
    /// <summary>Public room: anyone joins; id <c>room-{name}</c>.</summary>
    Room,

    /// <summary>Group: owner, moderators and members; join by invitation; id <c>group-{id}</c>.</summary>
    Group,

    /// <summary>Direct: exactly two players, created on the first message; id <c>dm-{a}-{b}</c> with a &lt; b.</summary>
    Direct,
}

/// <summary>A member's role in a channel. Only ever grows in privilege order Member &lt; Moderator &lt; Owner.</summary>
public enum ChannelRole
{
    Member,
    Moderator,
    Owner,
}

/// <summary>
/// An event of one channel's stream. <see cref="Offset"/> only grows within an <see cref="Epoch"/> (an epoch changes
/// only when the channel's history is lost, telling clients to resynchronise); <c>Sequence == Offset</c> and
/// <c>StreamId == "chat/{ChannelId}"</c>. Gateways push these to members in offset order, each exactly once.
/// Serialized as <see cref="ChannelEvent"/> (as chat publishes them and as history pages hold them) each carries a
/// <c>type</c> property equal to its CloudEvent type, so one reader handles every kind.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(ChatMessagePosted), ChatMessagePosted.EventType)]
[JsonDerivedType(typeof(ChatMessageEdited), ChatMessageEdited.EventType)]
[JsonDerivedType(typeof(ChatMessageDeleted), ChatMessageDeleted.EventType)]
[JsonDerivedType(typeof(ChatMemberJoined), ChatMemberJoined.EventType)]
[JsonDerivedType(typeof(ChatMemberLeft), ChatMemberLeft.EventType)]
public abstract record ChannelEvent : IntegrationEvent
{
    public required string ChannelId { get; init; }

    public required ChannelKind Kind { get; init; }

    public required long Epoch { get; init; }

    public required long Offset { get; init; }
}

/// <summary>A message was posted. <see cref="Text"/> is as stored, after the content filter (masking) ran.</summary>
public sealed record ChatMessagePosted : ChannelEvent
{
    public const string EventType = "chat.message.posted.v1";

    public required string SenderId { get; init; }

    /// <summary>The sender's own id for the message; a resend with the same id is not posted twice.</summary>
    public required string ClientMessageId { get; init; }

    public required string Text { get; init; }
}

/// <summary>The sender edited the message at <see cref="TargetOffset"/>.</summary>
public sealed record ChatMessageEdited : ChannelEvent
{
    public const string EventType = "chat.message.edited.v1";

    public required long TargetOffset { get; init; }

    public required string EditorId { get; init; }

    public required string Text { get; init; }
}

/// <summary>The message at <see cref="TargetOffset"/> was deleted: by its sender (<c>own</c>) or a moderator (<c>moderator</c>, <c>purge</c>).</summary>
public sealed record ChatMessageDeleted : ChannelEvent
{
    public const string EventType = "chat.message.deleted.v1";

    public required long TargetOffset { get; init; }

    public required string DeletedBy { get; init; }

    public required string Reason { get; init; }
}

/// <summary>A player became a member (joined a room, accepted into a group, or a party of a new direct channel).</summary>
public sealed record ChatMemberJoined : ChannelEvent
{
    public const string EventType = "chat.member.joined.v1";

    public required string PlayerId { get; init; }

    public required ChannelRole Role { get; init; }

    /// <summary>Who invited the player into a group; absent for rooms and direct channels.</summary>
    public string? InvitedBy { get; init; }
}

/// <summary>A player stopped being a member: <c>left</c>, <c>kicked</c> or <c>banned</c>.</summary>
public sealed record ChatMemberLeft : ChannelEvent
{
    public const string EventType = "chat.member.left.v1";

    public required string PlayerId { get; init; }

    public required string Reason { get; init; }

    /// <summary>The moderator who kicked or banned; absent when the player left.</summary>
    public string? By { get; init; }
}

/// <summary>
/// A moderation action, for audit (topic <see cref="Topics.ChatModeration"/>). Stream <c>chat-moderation/{ChannelId}</c>.
/// <see cref="Action"/> is one of <c>deleted</c>, <c>muted</c>, <c>unmuted</c>, <c>banned</c>, <c>unbanned</c>,
/// <c>kicked</c>, <c>purged</c>, <c>role_changed</c>, <c>reported</c>, <c>filtered</c>; the CloudEvent type is
/// <c>chat.moderation.{Action}.v1</c>.
/// </summary>
public sealed record ChatModerationAction : IntegrationEvent
{
    public const string EventTypePrefix = "chat.moderation.";

    public static string EventTypeOf(string action) => EventTypePrefix + action + ".v1";

    public required string ChannelId { get; init; }

    public required string Action { get; init; }

    /// <summary>Who acted: a moderator, the reporting player, or <c>system</c> for the content filter.</summary>
    public required string ActorId { get; init; }

    /// <summary>Whom it was done to.</summary>
    public string? TargetPlayerId { get; init; }

    /// <summary>The message concerned, when there is one.</summary>
    public long? TargetOffset { get; init; }

    /// <summary>End of a mute or ban; absent when permanent or not applicable.</summary>
    public DateTimeOffset? Until { get; init; }

    public string? Reason { get; init; }

    /// <summary>A new role (<c>role_changed</c>), or how many messages a purge deleted, as text.</summary>
    public string? Detail { get; init; }
}
