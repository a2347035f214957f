using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.WebSockets;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Matches;
using DaprGame.Contracts.Combat;

namespace DaprGame.Bench;

/// <summary>
/// Counts with a fixed resolution of one microsecond up to two seconds (above: counted at two seconds), recorded
/// lock-free from any thread: tens of thousands of samples a second from the clients' receive loops and the service's
/// tick metric would otherwise contend on one lock on two cores.
/// </summary>
internal sealed class MicrosHistogram
{
    private const int Top = 2_000_000;
    private readonly long[] _counts = new long[Top + 1];

    public void RecordMs(double ms) => Interlocked.Increment(ref _counts[(int)Math.Clamp(ms * 1000, 0, Top)]);

    public LatencySummary Summarize()
    {
        long total = 0;
        foreach (var c in _counts)
        {
            total += c;
        }
        return new LatencySummary((int)Math.Min(int.MaxValue, total), At(total, 0.50), At(total, 0.99), At(total, 0.999));
    }

    private double At(long total, double q)
    {
        if (total == 0)
        {
            return double.NaN;
        }
        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return i / 1000.0;
            }
        }
        return Top / 1000.0;
    }
}

/// <summary>What the bench's clients saw in one measured window; one per window, swapped in by the scenario.</summary>
internal sealed class ClientWindow
{
    public MicrosHistogram Intervals { get; } = new();

    public long Snapshots;
    public long Bytes;
    public long AckerSnapshots;
    public long AckerBytes;
    public long FullSnapshots;
    public long FullBytes;
    public long Gaps;
    public long DecodeErrors;
    public long Decoded;
}

/// <summary>The clients' shared window: each bot adds to the current one.</summary>
internal sealed class ClientStats
{
    private ClientWindow _current = new();

    public ClientWindow Current => Volatile.Read(ref _current);

    /// <summary>Starts a new window and returns the one that ends.</summary>
    public ClientWindow Swap() => Interlocked.Exchange(ref _current, new ClientWindow());

    public long Failures;
    public string? FirstFailure;
}

/// <summary>
/// One player's match socket (frames of services/combat/README.md): for each snapshot it sends an input for the next
/// tick (its sequence, a move that turns every second) and, when <see cref="Acks"/>, an ack of that tick; one bot in
/// a match may decode every snapshot with <see cref="SnapshotView"/>. Sends never overlap: one loop receives and sends.
/// </summary>
internal sealed class MatchBot : IDisposable
{
    // Eight directions at 70 % of the maximum move (1000): a wander without clamped-speed verdicts.
    private static readonly (short X, short Y)[] Directions = [(700, 0), (495, 495), (0, 700), (-495, 495), (-700, 0), (-495, -495), (0, -700), (495, -495)];

    private readonly ClientWebSocket _socket = new();
    private readonly ClientStats _stats;
    private readonly byte[] _input = new byte[MatchFrameTypes.InputLength];
    private readonly byte[] _ack = new byte[MatchFrameTypes.AckLength];
    private readonly SnapshotView? _view;
    private readonly int _turn;
    private byte[] _buffer = new byte[16 * 1024];
    private int _entity;
    private uint _sequence;
    private int _lastTick;
    private long _lastAt;

    public MatchBot(ClientStats stats, bool acks, bool decode, int entity, int seed)
    {
        _stats = stats;
        Acks = acks;
        _view = decode ? new SnapshotView() : null;
        _entity = entity;
        _turn = seed;
        _ack[0] = MatchFrameTypes.Ack;
    }

    public bool Acks { get; }

    public bool Ended { get; private set; }

    public async Task ConnectAsync(JoinTicket ticket, CancellationToken ct)
    {
        var query = "match=" + Uri.EscapeDataString(ticket.MatchId) + "&ticket=" + Uri.EscapeDataString(ticket.Ticket);
        await _socket.ConnectAsync(new UriBuilder(new Uri(ticket.Address)) { Query = query }.Uri, ct);
    }

    /// <summary>Receives until the end frame, the close, or <paramref name="ct"/>.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == _buffer.Length)
                    {
                        Array.Resize(ref _buffer, _buffer.Length * 2);
                    }
                    result = await _socket.ReceiveAsync(_buffer.AsMemory(length), ct);
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }
                switch (_buffer[0])
                {
                    case MatchFrameTypes.Welcome:
                        _entity = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(1));
                        break;
                    case MatchFrameTypes.Snapshot:
                        var tick = Snapshot(length);
                        await SendInputAsync(tick, ct);
                        if (Acks)
                        {
                            BinaryPrimitives.WriteInt32LittleEndian(_ack.AsSpan(1), tick);
                            await _socket.SendAsync(_ack.AsMemory(), WebSocketMessageType.Binary, true, ct);
                        }
                        break;
                    case MatchFrameTypes.End:
                        Ended = true;
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception error) when (error is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!Ended && !ct.IsCancellationRequested && Interlocked.Increment(ref _stats.Failures) == 1)
            {
                _stats.FirstFailure = error.Message;
            }
        }
    }

    private int Snapshot(int length)
    {
        var now = Stopwatch.GetTimestamp();
        var frame = _buffer.AsSpan(0, length);
        var tick = BinaryPrimitives.ReadInt32LittleEndian(frame[1..]);
        var baseline = BinaryPrimitives.ReadInt32LittleEndian(frame[5..]);
        var w = _stats.Current;
        Interlocked.Increment(ref w.Snapshots);
        Interlocked.Add(ref w.Bytes, length);
        if (Acks)
        {
            Interlocked.Increment(ref w.AckerSnapshots);
            Interlocked.Add(ref w.AckerBytes, length);
        }
        if (baseline == 0)
        {
            Interlocked.Increment(ref w.FullSnapshots);
            Interlocked.Add(ref w.FullBytes, length);
        }
        if (_lastAt != 0)
        {
            w.Intervals.RecordMs((now - _lastAt) * 1000.0 / Stopwatch.Frequency);
            if (tick != _lastTick + 1)
            {
                Interlocked.Increment(ref w.Gaps);
            }
        }
        _lastAt = now;
        _lastTick = tick;
        if (_view is not null)
        {
            try
            {
                _view.Apply(frame[13..]);
                Interlocked.Increment(ref w.Decoded);
            }
            catch (InvalidDataException)
            {
                Interlocked.Increment(ref w.DecodeErrors);
            }
        }
        return tick;
    }

    private ValueTask SendInputAsync(int tick, CancellationToken ct)
    {
        _sequence++;
        var (x, y) = Directions[(int)((_sequence / 30 + (uint)_turn) % (uint)Directions.Length)];
        ClientFrames.WriteInput(_input, new PlayerInput
        {
            Sequence = _sequence, Tick = tick + 1, ViewTick = tick, Entity = _entity, MoveX = x, MoveY = y, AimX = 1000, AimY = 0,
        });
        return _socket.SendAsync(_input.AsMemory(), WebSocketMessageType.Binary, true, ct);
    }

    public void Dispose() => _socket.Dispose();
}
