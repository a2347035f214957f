namespace DaprGame.Combat.Infrastructure;

/// <summary>Every log line the combat service writes, declared up front.</summary>
public static partial class CombatLog
{
    [LoggerMessage(1, LogLevel.Information, "Match {MatchId} created by {OwnerId} ({Mode} on {Map}, {TickRate} Hz)")]
    public static partial void Created(ILogger logger, string matchId, string ownerId, string mode, string map, int tickRate);

    [LoggerMessage(2, LogLevel.Information, "Match {MatchId} started on replica {Replica} with {Players} player(s)")]
    public static partial void Started(ILogger logger, string matchId, string replica, int players);

    [LoggerMessage(3, LogLevel.Information, "Match {MatchId} ended after {Ticks} ticks: {Reason}")]
    public static partial void Ended(ILogger logger, string matchId, int ticks, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Match {MatchId}: tick {Tick} took {Elapsed} ms, over its {Period} ms period ({Overruns} overruns so far)")]
    public static partial void Overrun(ILogger logger, string matchId, int tick, double elapsed, double period, long overruns);

    [LoggerMessage(30, LogLevel.Warning, "Match {MatchId}: the tick after {Tick} started {Late} ms late, over its {Period} ms period; the loop does not catch up ({Overruns} overruns so far)")]
    public static partial void LateTick(ILogger logger, string matchId, int tick, double late, double period, long overruns);

    [LoggerMessage(5, LogLevel.Warning, "Match {MatchId}: publishing {EventId} failed; retrying")]
    public static partial void PublishFailed(ILogger logger, Exception error, string matchId, string eventId);

    [LoggerMessage(6, LogLevel.Information, "Match socket refused for {PlayerId}: ticket {Reason}")]
    public static partial void TicketRefused(ILogger logger, string? playerId, string reason);

    [LoggerMessage(7, LogLevel.Information, "Match {MatchId}: {PlayerId} connected (entity {Entity}, resume: {Resume})")]
    public static partial void Connected(ILogger logger, string matchId, string playerId, int entity, bool resume);

    [LoggerMessage(8, LogLevel.Information, "Match {MatchId}: {PlayerId} left after the reconnect grace")]
    public static partial void GraceExpired(ILogger logger, string matchId, string playerId);

    [LoggerMessage(9, LogLevel.Warning, "Match {MatchId}: closing {PlayerId}'s socket after {Count} bad frames")]
    public static partial void TooManyBadFrames(ILogger logger, string matchId, string playerId, int count);

    [LoggerMessage(10, LogLevel.Error, "Match {MatchId}: the loop failed; the match ends")]
    public static partial void LoopFailed(ILogger logger, Exception error, string matchId);

    [LoggerMessage(11, LogLevel.Warning, "Match {MatchId}: reporting the end to the Match actor failed (attempt {Attempt}); retrying")]
    public static partial void FinishReportFailed(ILogger logger, Exception error, string matchId, int attempt);

    [LoggerMessage(12, LogLevel.Warning, "Match {MatchId} was running on a replica that no longer runs it; it ends as host_lost")]
    public static partial void HostLost(ILogger logger, string matchId);

    [LoggerMessage(14, LogLevel.Error, "Match {MatchId}: storing the replay failed (attempt {Attempt} of 3)")]
    public static partial void ReplaySaveFailed(ILogger logger, Exception error, string matchId, int attempt);

    [LoggerMessage(15, LogLevel.Warning, "Match {MatchId}: saving journal {Key} failed (attempt {Attempt} of 3)")]
    public static partial void CheckpointFailed(ILogger logger, Exception error, string matchId, string key, int attempt);

    [LoggerMessage(18, LogLevel.Warning, "Match {MatchId}: another replica took the match over (this loop was epoch {Epoch}); this loop stops")]
    public static partial void Superseded(ILogger logger, string matchId, int epoch);

    [LoggerMessage(16, LogLevel.Warning, "Match {MatchId} taken over at tick {Tick} from its journal (epoch {Epoch})")]
    public static partial void TookOver(ILogger logger, string matchId, int tick, int epoch);

    [LoggerMessage(17, LogLevel.Error, "Match {MatchId}: re-simulating its journal did not reach the checkpoint's state at tick {Tick}; it ends as host_lost")]
    public static partial void TakeoverDiverged(ILogger logger, string matchId, int tick);

    [LoggerMessage(13, LogLevel.Warning, "Fetching the ticket keys (JWKS) of {App} failed")]
    public static partial void KeysFailed(ILogger logger, Exception error, string app);
}
