using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>
/// A real <see cref="ClientWebSocket"/> speaking the gateway's envelope. Every wait is bounded and its failure says
/// what did not arrive.
/// </summary>
public sealed class TestSocket : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly byte[] _buffer = new byte[1 << 20];
    private int _cid;

    private TestSocket(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    /// <summary>The close status the server sent, once the close frame was read.</summary>
    /// <summary>Envelopes already received but not yet handed out (a batched message holds several).</summary>
    private readonly Queue<JsonElement> _unread = new();

    public WebSocketCloseStatus? CloseStatus => Socket.CloseStatus;

    public static async Task<TestSocket> ConnectAsync(Uri uri, string? token, string? origin = null, int? receiveBufferBytes = null, bool resume = false)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }
        var target = token is null ? uri : new Uri(uri + "?access_token=" + Uri.EscapeDataString(token) + (resume ? "&resume=1" : ""));
        var ct = TestContext.Current.CancellationToken;
        if (receiveBufferBytes is { } size)
        {
            // A small kernel receive buffer makes "a client that stopped reading" show up after a few frames rather than megabytes.
            using var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (context, token) =>
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = size, NoDelay = true };
                    await s.ConnectAsync(context.DnsEndPoint.Host == "127.0.0.1" ? IPAddress.Loopback : IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, token);
                    return new NetworkStream(s, ownsSocket: true);
                },
            };
            await socket.ConnectAsync(target, new HttpMessageInvoker(handler, disposeHandler: false), ct).WaitAsync(Timeout, ct);
        }
        else
        {
            await socket.ConnectAsync(target, ct).WaitAsync(Timeout, ct);
        }
        return new TestSocket(socket);
    }

    /// <summary>Tries to connect and returns the HTTP status of the refused handshake.</summary>
    public static async Task<HttpStatusCode> RefusedStatusAsync(Uri uri, string? token, string? origin = null, string? bearerHeader = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }
        if (bearerHeader is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearerHeader);
        }
        var target = token is null ? uri : new Uri(uri + "?access_token=" + Uri.EscapeDataString(token));
        var ct = TestContext.Current.CancellationToken;
        var ex = await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ConnectAsync(target, ct).WaitAsync(Timeout, ct));
        Assert.NotNull(ex);
        return socket.HttpStatusCode;
    }

    public Task SendTextAsync(string text) => SendBytesAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public Task SendBytesAsync(byte[] bytes, WebSocketMessageType type) =>
        Socket.SendAsync(bytes, type, endOfMessage: true, TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

    public string NextCid() => "c" + Interlocked.Increment(ref _cid);

    public async Task<string> SendRequestAsync(string type, object? data, string? cid = null)
    {
        cid ??= NextCid();
        var json = JsonSerializer.Serialize(new { type, cid, data }, Hosting.ServiceDefaults.JsonOptions);
        await SendTextAsync(json);
        return cid;
    }

    /// <summary>Sends a request and returns its reply; fails if any other frame comes first.</summary>
    public async Task<JsonElement> RequestAsync(string type, object? data)
    {
        var cid = await SendRequestAsync(type, data);
        var reply = await ReceiveAsync($"the reply to {type} ({cid})");
        Assert.Equal(cid, reply.GetProperty("cid").GetString());
        return reply;
    }

    /// <summary>Sends a request and reads until its reply, returning the pushed frames that came before it too.</summary>
    public async Task<(JsonElement Reply, List<JsonElement> Pushes)> RequestAmidPushesAsync(string type, object? data)
    {
        var cid = await SendRequestAsync(type, data);
        var pushes = new List<JsonElement>();
        while (true)
        {
            var frame = await ReceiveAsync($"the reply to {type} ({cid})");
            if (frame.TryGetProperty("cid", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() == cid)
            {
                return (frame, pushes);
            }
            pushes.Add(frame);
        }
    }

    /// <summary>The next frame, parsed; fails with <paramref name="what"/> when none arrives in time or the socket closes.</summary>
    public async Task<JsonElement> ReceiveAsync(string what = "a frame")
    {
        if (_unread.TryDequeue(out var waiting))
        {
            return waiting;
        }
        var ct = TestContext.Current.CancellationToken;
        var count = 0;
        while (true)
        {
            ValueWebSocketReceiveResult result;
            try
            {
                result = await Socket.ReceiveAsync(_buffer.AsMemory(count), ct).AsTask().WaitAsync(Timeout, ct);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"Waited {Timeout.TotalSeconds} s for {what}; nothing arrived.");
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"Expected {what}, but the server closed the socket with {Socket.CloseStatus} {Socket.CloseStatusDescription}.");
            }
            count += result.Count;
            if (result.EndOfMessage)
            {
                foreach (var frame in Envelopes(_buffer.AsMemory(0, count)))
                {
                    _unread.Enqueue(frame);
                }
                return _unread.Dequeue();
            }
        }
    }

    /// <summary>The envelopes of one text message: one, or several separated by newlines when the server batched them.</summary>
    private static List<JsonElement> Envelopes(ReadOnlyMemory<byte> message)
    {
        var envelopes = new List<JsonElement>();
        while (!message.IsEmpty)
        {
            var end = message.Span.IndexOf((byte)'\n');
            var line = end < 0 ? message : message[..end];
            using (var doc = JsonDocument.Parse(line))
            {
                envelopes.Add(doc.RootElement.Clone());
            }
            message = end < 0 ? ReadOnlyMemory<byte>.Empty : message[(end + 1)..];
        }
        return envelopes;
    }

    /// <summary>The next frame, which must be of <paramref name="type"/>.</summary>
    public async Task<JsonElement> ExpectAsync(string type)
    {
        var frame = await ReceiveAsync($"a {type} frame");
        Assert.Equal(type, frame.GetProperty("type").GetString());
        return frame;
    }

    /// <summary>The next frame must be an error with this code and cid.</summary>
    public async Task<JsonElement> ExpectErrorAsync(string code, string? cid)
    {
        var frame = await ReceiveAsync($"an error frame {code}");
        Assert.Equal(Frames.Error, frame.GetProperty("type").GetString());
        Assert.Equal(code, frame.GetProperty("data").GetProperty("code").GetString());
        if (cid is null)
        {
            Assert.Equal(JsonValueKind.Null, frame.GetProperty("cid").ValueKind);
        }
        else
        {
            Assert.Equal(cid, frame.GetProperty("cid").GetString());
        }
        return frame;
    }

    /// <summary>Reads (and collects) frames until the server's close frame; returns the frames read before it.</summary>
    public async Task<List<JsonElement>> ReadUntilClosedAsync()
    {
        var frames = new List<JsonElement>(_unread);
        _unread.Clear();
        var ct = TestContext.Current.CancellationToken;
        var count = 0;
        while (true)
        {
            ValueWebSocketReceiveResult result;
            try
            {
                result = await Socket.ReceiveAsync(_buffer.AsMemory(count), ct).AsTask().WaitAsync(Timeout, ct);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"Waited {Timeout.TotalSeconds} s for the server to close the socket; it did not.");
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return frames;
            }
            count += result.Count;
            if (result.EndOfMessage)
            {
                frames.AddRange(Envelopes(_buffer.AsMemory(0, count)));
                count = 0;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        Socket.Dispose();
    }
}
