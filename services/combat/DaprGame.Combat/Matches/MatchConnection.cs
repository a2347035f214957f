using System.Net.WebSockets;
using System.Threading.Channels;
using DaprGame.Combat.Domain;

namespace DaprGame.Combat.Matches;

/// <summary>
/// One player's match socket as the loop sees it: a bounded queue of frames to send (the oldest snapshot goes when a
/// slow client falls behind; the loop never waits) and the last tick the client acknowledged (the delta baseline).
/// </summary>
public sealed class MatchConnection
{
    private readonly Channel<byte[]> _outbound;
    private readonly Lock _closing = new();
    private int _ackTick;

    public MatchConnection(string playerId, int sendQueue)
    {
        PlayerId = playerId;
        // DropOldest: a newer snapshot supersedes an older one. Control frames (welcome, end) go first or last, never
        // into a full queue of snapshots: the welcome is the first frame, and the end completes the queue.
        _outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(sendQueue)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropOldest,
        });
    }

    public string PlayerId { get; }

    public ChannelReader<byte[]> Outbound => _outbound.Reader;

    /// <summary>The last tick the client said it received; 0 (a full snapshot) until it acknowledges one.</summary>
    public int AckTick => Volatile.Read(ref _ackTick);

    /// <summary>Why the match side closed this connection (replaced, match ended, left), or null while open.</summary>
    public string? ClosedReason { get; private set; }

    /// <summary>The close code the socket ends with (normal unless the client misbehaved).</summary>
    public WebSocketCloseStatus CloseStatus { get; private set; } = WebSocketCloseStatus.NormalClosure;

    /// <summary>Accepts an acknowledgement that moves forward and names a tick already sent.</summary>
    public bool Acknowledge(int tick, int currentTick)
    {
        if (tick <= 0 || tick > currentTick)
        {
            return false;
        }
        int seen;
        do
        {
            seen = Volatile.Read(ref _ackTick);
            if (tick <= seen)
            {
                return true;
            }
        }
        while (Interlocked.CompareExchange(ref _ackTick, tick, seen) != seen);
        return true;
    }

    public bool TrySend(byte[] frame) => _outbound.Writer.TryWrite(frame);

    /// <summary>Sends <paramref name="last"/> (if any) after what is queued, then the socket closes.</summary>
    public void Close(string reason, byte[]? last = null, WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure)
    {
        // The loop (match ended, replaced, left) and the socket (client gone, bad frames) may close at once: the first wins.
        lock (_closing)
        {
            if (ClosedReason is not null)
            {
                return;
            }
            ClosedReason = reason;
            CloseStatus = status;
            if (last is not null)
            {
                // The end frame must not be dropped: make room by dropping queued snapshots (the end supersedes them).
                while (!_outbound.Writer.TryWrite(last) && _outbound.Reader.TryRead(out _))
                {
                }
            }
            _outbound.Writer.TryComplete();
        }
    }
}

/// <summary>A player's seat in a running match: their entity and their bounded input queue.</summary>
public sealed class PlayerSeat(string playerId, int entity, int team, int inputQueue)
{
    public string PlayerId { get; } = playerId;

    public int Entity { get; set; } = entity;

    public int Team { get; set; } = team;

    /// <summary>Filled by the socket reader, drained by the loop (at most a few per tick). Full: the input is dropped and counted.</summary>
    public Channel<PlayerInput> Inputs { get; } = Channel.CreateBounded<PlayerInput>(new BoundedChannelOptions(inputQueue)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    public MatchConnection? Connection { get; set; }

    /// <summary>When the last socket went away; the player leaves once the reconnect grace has passed.</summary>
    public DateTimeOffset? DisconnectedAt { get; set; }

    public bool Gone { get; set; }

    private long _flooded;

    public long Flooded => Interlocked.Read(ref _flooded);

    public void CountFlood() => Interlocked.Increment(ref _flooded);
}
