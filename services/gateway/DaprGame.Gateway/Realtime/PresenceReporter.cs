using System.Threading.Channels;
using DaprGame.Contracts.Chat;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// Tells chat who is online in which channel, in the order the feeds decided it: one loop drains a single-reader
/// queue, so an "offline" can never overtake the "online" before it. Failures are logged and left to the next refresh.
/// </summary>
public sealed class PresenceReporter(IChatClient chat, GatewayRealtimeLog log)
{
    private readonly Channel<(string ChannelId, string PlayerId, bool Online)> _queue =
        Channel.CreateUnbounded<(string, string, bool)>(new UnboundedChannelOptions { SingleReader = true });

    public void Report(string channelId, string playerId, bool online) => _queue.Writer.TryWrite((channelId, playerId, online));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (channelId, playerId, online) in _queue.Reader.ReadAllAsync(cancellationToken))
            {
                var result = await chat.SetPresenceAsync(channelId, new PresenceUpdate(playerId, online), cancellationToken);
                if (result.Error is { } error)
                {
                    log.PresenceFailed(channelId, playerId, error.Code);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
