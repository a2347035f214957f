using System.Buffers.Text;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;

namespace DaprGame.Bench;

/// <summary>
/// Latency histogram shared by thousands of receive loops: 10 µs buckets up to 2 s, counted with Interlocked so the
/// load client does no locking or allocation per delivery (it must not be the bottleneck at 150,000 deliveries/s).
/// </summary>
internal sealed class FanoutHistogram
{
    private const int BucketMicros = 10;
    private readonly long[] _buckets = new long[200_000];

    public long Count;

    public void Record(long sentTimestamp, long now)
    {
        var micros = (now - sentTimestamp) * 1_000_000 / Stopwatch.Frequency;
        var bucket = (int)Math.Clamp(micros / BucketMicros, 0, _buckets.Length - 1);
        Interlocked.Increment(ref _buckets[bucket]);
        Interlocked.Increment(ref Count);
    }

    public void Reset()
    {
        Array.Clear(_buckets);
        Interlocked.Exchange(ref Count, 0);
    }

    public double PercentileMs(double q)
    {
        var total = Interlocked.Read(ref Count);
        if (total == 0)
        {
            return double.NaN;
        }
        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen >= rank)
            {
                return (i + 1) * BucketMicros / 1000.0;
            }
        }
        return _buckets.Length * BucketMicros / 1000.0;
    }
}

/// <summary>
/// A lean load client socket: reads frames into one reused buffer and, for each chat message in them, finds the send
/// timestamp the sender wrote into the text (<c>"text":"t=&lt;ticks&gt;</c>) with a byte search — no JSON parsing,
/// no allocation per frame. It counts every envelope whose text carries a timestamp, whether the server sent it alone
/// or batched with others in one frame.
/// </summary>
internal sealed class FanoutClient(ClientWebSocket socket, FanoutHistogram histogram)
{
    private static readonly byte[] Marker = "\"t="u8.ToArray();

    public ClientWebSocket Socket { get; } = socket;

    public long Received;

    public WebSocketCloseStatus? CloseStatus { get; private set; }

    /// <summary>Serialises sends: a WebSocket allows one send at a time.</summary>
    public SemaphoreSlim SendGate { get; } = new(1, 1);

    private Task? _receiving;

    /// <summary>Starts the receive loop once; later calls return the same task.</summary>
    public Task Start() => _receiving ??= Task.Run(ReceiveLoopAsync);

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = Socket.CloseStatus;
                    return;
                }
                filled += result.Count;
                if (!result.EndOfMessage)
                {
                    if (filled == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                    continue;
                }
                Scan(buffer.AsSpan(0, filled));
                filled = 0;
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private void Scan(ReadOnlySpan<byte> frame)
    {
        var now = Stopwatch.GetTimestamp();
        while (true)
        {
            var at = frame.IndexOf(Marker);
            if (at < 0)
            {
                return;
            }
            frame = frame[(at + Marker.Length)..];
            if (Utf8Parser.TryParse(frame, out long sent, out var consumed))
            {
                histogram.Record(sent, now);
                Interlocked.Increment(ref Received);
                frame = frame[consumed..];
            }
        }
    }

    public async Task SendAsync(byte[] frame, CancellationToken ct)
    {
        await SendGate.WaitAsync(ct);
        try
        {
            await Socket.SendAsync(frame, WebSocketMessageType.Text, true, ct);
        }
        finally
        {
            SendGate.Release();
        }
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
