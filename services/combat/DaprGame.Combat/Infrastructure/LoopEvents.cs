using System.Threading.Channels;

namespace DaprGame.Combat.Infrastructure;

/// <summary>
/// Events a match loop produced (kills, loot, cheat flags), published in order by one background reader so the loop
/// never waits on the broker. Each is retried until the broker takes it. Their ids are derived from the match and the
/// tick-ordered sequence, so a republish or a re-simulation gives the same ids and consumers dedup; what is still
/// queued when the replica dies is lost with the match (README: what is left).
/// </summary>
public sealed class LoopEvents(ICombatPublisher publisher, ILogger<LoopEvents> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    // Unbounded: the loop must never block, and a match makes at most a few events per tick; the depth is visible in logs on failure.
    private readonly Channel<(string MatchId, StoredEvent Event)> _queue =
        Channel.CreateUnbounded<(string, StoredEvent)>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(string matchId, StoredEvent evt) => _queue.Writer.TryWrite((matchId, evt));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (matchId, evt) in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            while (true)
            {
                try
                {
                    await publisher.PublishAsync(evt, stoppingToken);
                    break;
                }
                catch (Exception error) when (!stoppingToken.IsCancellationRequested)
                {
                    CombatLog.PublishFailed(logger, error, matchId, evt.Id);
                    await Task.Delay(RetryDelay, stoppingToken);
                }
            }
        }
    }
}
