using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using DaprGame.Gateway.Auth;

namespace DaprGame.Gateway.Realtime;

/// <summary>Close codes the gateway uses on <c>/ws</c> (documented in the gateway README).</summary>
public static class CloseCodes
{
    public const int Normal = 1000;
    public const int GoingAway = 1001;
    public const int UnsupportedData = 1003;
    public const int InvalidPayload = 1007;
    public const int PolicyViolation = 1008;
    public const int MessageTooBig = 1009;
    public const int TryAgainLater = 1013;
    public const int SessionRevoked = 4001;
    public const int SlowConsumer = 4008;
}

/// <summary>
/// One player socket. Everything sent to it goes through a bounded single-reader queue drained by one writer loop
/// (<see cref="RunWriterAsync"/>), so producers (fan-out, replies, catch-up) never wait on the network; a full queue
/// means the client stopped reading, and the socket is closed with 4008 rather than slowing anyone else down.
/// </summary>
public sealed class PlayerConnection : IDisposable
{
    private readonly WebSocket _socket;
    private readonly Channel<ReadOnlyMemory<byte>> _outbound;
    private readonly int _capacity;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _watching = new(StringComparer.Ordinal);
    private readonly Action<PlayerConnection> _onOverflow;
    private readonly TimeSpan _closeTimeout;
    private CancellationTokenSource? _abortTimer;
    private int _closeCode;
    private string _closeReason = "";
    private bool _started;
    private volatile bool _flushOnClose;

    public PlayerConnection(string connectionId, PlayerIdentity player, string resumeToken, WebSocket socket, int queueFrames, TimeSpan closeTimeout, Action<PlayerConnection> onOverflow)
    {
        _closeTimeout = closeTimeout;
        ConnectionId = connectionId;
        Player = player;
        ResumeToken = resumeToken;
        _socket = socket;
        _capacity = queueFrames;
        _onOverflow = onOverflow;
        // Wait mode is only what makes TryWrite report "full" instead of dropping: nobody ever waits on it.
        _outbound = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(queueFrames)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
    }

    public string ConnectionId { get; }

    public PlayerIdentity Player { get; }

    public string PlayerId => Player.PlayerId;

    public string ResumeToken { get; }

    /// <summary>0 while open; the close code once a close was decided.</summary>
    public int CloseCode => Volatile.Read(ref _closeCode);

    public string CloseReason => _closeReason;

    public bool IsClosing => CloseCode != 0;

    /// <summary>Frames waiting to be written.</summary>
    public int QueuedFrames => _outbound.Reader.Count;

    /// <summary>
    /// Queues a frame. Called concurrently by the fan-out loops, the request loop and catch-ups; never blocks and never
    /// copies: push frames are shared by every recipient. A full queue closes the socket with 4008.
    /// </summary>
    public bool TryEnqueue(ReadOnlyMemory<byte> frame)
    {
        if (_outbound.Writer.TryWrite(frame))
        {
            return true;
        }
        if (Close(CloseCodes.SlowConsumer, "slow consumer"))
        {
            _onOverflow(this);
        }
        return false;
    }

    /// <summary>
    /// Decides the close (first caller wins) and has the writer send the close frame. With <paramref name="flush"/> the
    /// frames already queued (replies to earlier requests) go out first; otherwise (slow consumer, revoked session)
    /// they are dropped.
    /// </summary>
    public bool Close(int code, string reason, bool flush = false)
    {
        if (Interlocked.CompareExchange(ref _closeCode, code, 0) != 0)
        {
            return false;
        }
        _closeReason = reason;
        _flushOnClose = flush;
        _outbound.Writer.TryComplete();
        // A peer that does not read (the writer is stuck in a send) or never answers the close frame is cut off after
        // the close timeout, so a dead client cannot hold the socket, its buffers and its slot.
        var timer = new CancellationTokenSource(_closeTimeout);
        timer.Token.Register(static s => ((WebSocket)s!).Abort(), _socket);
        Volatile.Write(ref _abortTimer, timer);
        return true;
    }

    /// <summary>True once the first request was handled: live pushes flow only from then (see the README's resume section).</summary>
    public bool IsStarted
    {
        get
        {
            lock (_lock)
            {
                return _started;
            }
        }
    }

    /// <summary>Marks the socket started and returns the channels it watches at that instant (each needs a release).</summary>
    public string[] Start()
    {
        lock (_lock)
        {
            _started = true;
            return [.. _watching];
        }
    }

    /// <summary>Records that a feed now watches <paramref name="channelId"/> for this socket; returns whether the socket is started (else the watcher holds its events).</summary>
    public bool AddWatching(string channelId)
    {
        lock (_lock)
        {
            _watching.Add(channelId);
            return _started;
        }
    }

    public void RemoveWatching(string channelId)
    {
        lock (_lock)
        {
            _watching.Remove(channelId);
        }
    }

    public bool IsWatching(string channelId)
    {
        lock (_lock)
        {
            return _watching.Contains(channelId);
        }
    }

    public string[] Watching()
    {
        lock (_lock)
        {
            return [.. _watching];
        }
    }

    /// <summary>
    /// The one writer: drains the queue to the socket, then, once a close was decided, drops what is left and sends the
    /// close frame (bounded by the close timeout; a peer that does not read by then is aborted).
    /// </summary>
    private const int MaxBatchBytes = 64 * 1024;
    private const int MaxBatchFrames = 64;

    private async Task SendBatchAsync(ChannelReader<ReadOnlyMemory<byte>> reader, ReadOnlyMemory<byte> first, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(MaxBatchBytes, first.Length));
        try
        {
            first.CopyTo(buffer);
            var length = first.Length;
            var count = 1;
            while (count < MaxBatchFrames && reader.TryPeek(out var next) && length + 1 + next.Length <= buffer.Length && reader.TryRead(out next))
            {
                buffer[length++] = (byte)'\n';
                next.CopyTo(buffer.AsMemory(length));
                length += next.Length;
                count++;
            }
            await _socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task RunWriterAsync(CancellationToken cancellationToken)
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                while (reader.TryRead(out var frame))
                {
                    if (IsClosing && !_flushOnClose)
                    {
                        break;
                    }
                    if (!reader.TryPeek(out _))
                    {
                        await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                        continue;
                    }
                    // More is queued (the socket fell behind, or a burst): send the queued envelopes as one text message,
                    // one per line (JSON never holds a raw newline). One send and one receive instead of one per frame:
                    // per-frame syscalls on both ends are what a fan-out to 1,000 sockets spends its CPU on.
                    await SendBatchAsync(reader, frame, cancellationToken);
                }
                if (IsClosing && !_flushOnClose)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            Close(CloseCodes.GoingAway, "connection lost");
            _socket.Abort();
            return;
        }

        Close(CloseCodes.Normal, "closing");
        using var timeout = new CancellationTokenSource(_closeTimeout);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync((WebSocketCloseStatus)CloseCode, _closeReason, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            _socket.Abort();
        }
    }

    public int Capacity => _capacity;

    public void Dispose() => Volatile.Read(ref _abortTimer)?.Dispose();
}
