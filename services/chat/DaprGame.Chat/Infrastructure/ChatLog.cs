namespace DaprGame.Chat.Infrastructure;

/// <summary>Every log line the chat service writes, declared up front.</summary>
public static partial class ChatLog
{
    [LoggerMessage(1, LogLevel.Information, "Channel {ChannelId} created ({Kind})")]
    public static partial void ChannelCreated(ILogger logger, string channelId, string kind);

    [LoggerMessage(2, LogLevel.Warning, "Channel {ChannelId}: publishing offset {Offset} failed; the outbox retries it")]
    public static partial void PublishFailed(ILogger logger, Exception error, string channelId, long offset);

    [LoggerMessage(3, LogLevel.Warning, "Channel {ChannelId}: publishing moderation record {RecordId} failed; the outbox retries it")]
    public static partial void ModerationPublishFailed(ILogger logger, Exception error, string channelId, string recordId);

    [LoggerMessage(4, LogLevel.Warning, "Channel {ChannelId}: updating the channel index of {PlayerId} failed")]
    public static partial void MemberIndexFailed(ILogger logger, Exception error, string channelId, string playerId);

    [LoggerMessage(5, LogLevel.Warning, "Channel {ChannelId}: updating the room directory failed")]
    public static partial void DirectoryFailed(ILogger logger, Exception error, string channelId);

    [LoggerMessage(6, LogLevel.Information, "Channel {ChannelId}: republished {Count} event(s) from the outbox")]
    public static partial void Republished(ILogger logger, string channelId, int count);

    [LoggerMessage(7, LogLevel.Debug, "Channel {ChannelId} refused {Operation}: {Code}")]
    public static partial void Refused(ILogger logger, string channelId, string operation, string code);
}
