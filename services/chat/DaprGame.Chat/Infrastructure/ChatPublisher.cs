using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Infrastructure;

/// <summary>Where chat's integration events leave the service. The ChatRoom actor publishes only after its state is saved.</summary>
public interface IChatPublisher
{
    /// <summary>Publishes to <see cref="Topics.Chat"/>, serialized as <see cref="ChannelEvent"/> so the JSON carries its <c>type</c>.</summary>
    Task PublishAsync(ChannelEvent channelEvent, CancellationToken cancellationToken);

    /// <summary>Publishes to <see cref="Topics.ChatModeration"/> with CloudEvent type <c>chat.moderation.{action}.v1</c>.</summary>
    Task PublishAsync(ChatModerationAction action, CancellationToken cancellationToken);
}

/// <summary>Publishes through the sidecar's pub/sub API; the CloudEvent id is the event id, so a republish is recognisable.</summary>
public sealed class DaprChatPublisher(DaprClient dapr) : IChatPublisher
{
    public Task PublishAsync(ChannelEvent channelEvent, CancellationToken cancellationToken) =>
        dapr.PublishEventAsync<ChannelEvent>(Components.PubSub, Topics.Chat, channelEvent, Metadata(TypeOf(channelEvent), channelEvent.Id), cancellationToken);

    public Task PublishAsync(ChatModerationAction action, CancellationToken cancellationToken) =>
        dapr.PublishEventAsync(Components.PubSub, Topics.ChatModeration, action, Metadata(ChatModerationAction.EventTypeOf(action.Action), action.Id), cancellationToken);

    /// <summary>The CloudEvent type of a channel event: its discriminator constant.</summary>
    public static string TypeOf(ChannelEvent e) => e switch
    {
        ChatMessagePosted => ChatMessagePosted.EventType,
        ChatMessageEdited => ChatMessageEdited.EventType,
        ChatMessageDeleted => ChatMessageDeleted.EventType,
        ChatMemberJoined => ChatMemberJoined.EventType,
        ChatMemberLeft => ChatMemberLeft.EventType,
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "not a known channel event"),
    };

    private static Dictionary<string, string> Metadata(string type, string id) => new(StringComparer.Ordinal)
    {
        ["cloudevent.type"] = type,
        ["cloudevent.id"] = id,
    };
}
