using DaprGame.Gateway.Auth;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// The realtime side's background work: the presence and resume-save loops, their periodic refreshes, the rate limiter
/// sweep, and closing a revoked session's sockets (4001). Timers run on <see cref="TimeProvider"/>.
/// </summary>
public sealed class RealtimeBackground(
    PushHub hub,
    PresenceReporter presence,
    ResumeStore resume,
    RateLimiter limiter,
    ConnectionRegistry connections,
    SessionRevocationHub revocations,
    GatewayRealtimeLog log,
    TimeProvider time,
    IOptions<RealtimeOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        revocations.Revoked += OnRevoked;
        var o = options.Value;
        var presenceEvery = TimeSpan.FromSeconds(Math.Max(1, o.PresenceRefreshSeconds));
        // Refresh resume records well inside their TTL so an open socket's token never lapses.
        var resumeEvery = TimeSpan.FromSeconds(Math.Max(1, o.ResumeGrace / 3.0));
        using var presenceTimer = time.CreateTimer(_ => hub.RefreshPresence(), null, presenceEvery, presenceEvery);
        using var resumeTimer = time.CreateTimer(_ => RefreshResume(), null, resumeEvery, resumeEvery);
        using var sweepTimer = time.CreateTimer(_ => limiter.Sweep(), null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        try
        {
            await Task.WhenAll(presence.RunAsync(stoppingToken), resume.RunAsync(stoppingToken));
        }
        finally
        {
            revocations.Revoked -= OnRevoked;
        }
    }

    private void RefreshResume()
    {
        foreach (var connection in connections.All())
        {
            resume.MarkDirty(connection);
        }
    }

    private void OnRevoked(string playerId, string sessionId)
    {
        var closed = 0;
        foreach (var connection in connections.ConnectionsOf(playerId))
        {
            if (connection.Player.SessionId == sessionId && connection.Close(CloseCodes.SessionRevoked, "session revoked"))
            {
                closed++;
            }
        }
        log.SessionRevoked(playerId, sessionId, closed);
    }
}
