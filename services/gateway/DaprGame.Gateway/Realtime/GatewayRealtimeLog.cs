using DaprGame.Gateway.Auth;

namespace DaprGame.Gateway.Realtime;

/// <summary>Every log line of the realtime side, declared up front.</summary>
public sealed partial class GatewayRealtimeLog(ILogger<GatewayRealtimeLog> logger)
{
    private readonly ILogger _logger = logger;

    [LoggerMessage(1, LogLevel.Information, "Socket {ConnectionId} opened for player {PlayerId} (session {SessionId})")]
    public partial void SocketOpened(string connectionId, string playerId, string sessionId);

    [LoggerMessage(2, LogLevel.Information, "Socket {ConnectionId} of player {PlayerId} closed: {Code} {Reason}")]
    public partial void SocketClosed(string connectionId, string playerId, int code, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Socket upgrade refused with {Status}: {Reason}")]
    public partial void UpgradeRefused(int status, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Socket {ConnectionId} of player {PlayerId} is a slow consumer ({Frames} frames queued); closing with 4008")]
    public partial void SlowConsumer(string connectionId, string playerId, int frames);

    [LoggerMessage(5, LogLevel.Warning, "Player {PlayerId} floods {RateClass} requests; closing socket {ConnectionId} with 1008")]
    public partial void Flooding(string playerId, RateClass rateClass, string connectionId);

    [LoggerMessage(6, LogLevel.Warning, "Chat call {Method} {Route} failed")]
    public partial void ChatCallFailed(string method, string route, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Channel {ChannelId}: could not fill the gap after offset {Last} up to {UpTo} ({Reason}); watchers told to re-list")]
    public partial void GapNotFilled(string channelId, long last, long upTo, string reason);

    [LoggerMessage(8, LogLevel.Information, "Channel {ChannelId}: epoch changed {Old} → {New}; watchers told to re-list")]
    public partial void EpochChanged(string channelId, long old, long @new);

    [LoggerMessage(9, LogLevel.Warning, "Presence update for {PlayerId} in {ChannelId} failed: {Code}")]
    public partial void PresenceFailed(string channelId, string playerId, string code);

    [LoggerMessage(10, LogLevel.Warning, "Resume state could not be saved for socket {ConnectionId}")]
    public partial void ResumeSaveFailed(string connectionId, Exception exception);

    [LoggerMessage(11, LogLevel.Information, "Session {SessionId} of player {PlayerId} revoked; closing {Count} socket(s)")]
    public partial void SessionRevoked(string playerId, string sessionId, int count);

    [LoggerMessage(12, LogLevel.Warning, "Chat event could not be read; dropped")]
    public partial void BadChatEvent(Exception exception);

    [LoggerMessage(13, LogLevel.Error, "Channel {ChannelId}: feed loop failed")]
    public partial void FeedFailed(string channelId, Exception exception);

    [LoggerMessage(14, LogLevel.Warning, "Socket {ConnectionId}: catch-up of {ChannelId} from {From} failed ({Code}); client told to re-list")]
    public partial void CatchUpFailed(string connectionId, string channelId, long from, string code);

    [LoggerMessage(15, LogLevel.Warning, "Socket {ConnectionId}: welcome failed, chat answered {Code}; closing with 1013")]
    public partial void WelcomeFailed(string connectionId, string code);

    public static string Describe(PlayerIdentity player) => player.PlayerId + "/" + player.SessionId;
}
