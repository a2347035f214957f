using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace DaprGame.EndToEnd.Tests;

internal static class MemoryLines
{
    /// <summary>The non-empty pieces of <paramref name="bytes"/> between <paramref name="separator"/> bytes.</summary>
    public static List<ReadOnlyMemory<byte>> Split(this ReadOnlyMemory<byte> bytes, byte separator)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        while (!bytes.IsEmpty)
        {
            var end = bytes.Span.IndexOf(separator);
            if (end != 0)
            {
                pieces.Add(end < 0 ? bytes : bytes[..end]);
            }
            bytes = end < 0 ? ReadOnlyMemory<byte>.Empty : bytes[(end + 1)..];
        }
        return pieces;
    }

    public static List<ReadOnlyMemory<byte>> Split(this Memory<byte> bytes, byte separator) => ((ReadOnlyMemory<byte>)bytes).Split(separator);
}

/// <summary>An error frame the gateway answered a request with.</summary>
public sealed class GatewayErrorException(string code, string message) : Exception($"{code}: {message}")
{
    public string Code { get; } = code;
}

/// <summary>One chat event as a client received it.</summary>
public sealed record ReceivedEvent(string Type, string ChannelId, long Epoch, long Offset, JsonElement Data);

/// <summary>
/// A player's client, written only against the documented protocol: guest login over HTTP, one WebSocket to a
/// gateway, the <c>{type, cid, data}</c> envelope. It records every pushed chat event per channel, so tests check
/// exactly-once, in-order delivery from what a real client saw.
/// </summary>
public sealed class PlayerClient : IAsyncDisposable
{
    private static int s_nextCid;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ReceivedEvent>> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Epoch, long Offset)> _joinedAt = new(StringComparer.Ordinal);
    private readonly List<(string ChannelId, long Offset, TaskCompletionSource Done)> _waiters = [];
    private readonly object _gate = new();
    private ClientWebSocket? _socket;
    private Task? _receiver;
    private TaskCompletionSource<JsonElement> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PlayerClient(string playerId, string accessToken, string refreshToken, string sessionId)
    {
        PlayerId = playerId;
        AccessToken = accessToken;
        RefreshToken = refreshToken;
        SessionId = sessionId;
    }

    public string PlayerId { get; }

    public string AccessToken { get; }

    public string RefreshToken { get; }

    public string SessionId { get; }

    public Uri? Gateway { get; private set; }

    /// <summary>Frames other than replies and chat events (welcome, history.truncated…), in arrival order.</summary>
    public ConcurrentQueue<JsonElement> OtherFrames { get; } = new();

    /// <summary>How the socket ended, once it has: the close status the server sent, or null for an abort.</summary>
    public TaskCompletionSource<WebSocketCloseStatus?> Closed { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string? ResumeToken { get; private set; }

    /// <summary>The data of the latest welcome frame (the session and the channels it watches).</summary>
    public JsonElement? LastWelcome { get; private set; }

    /// <summary>Logs in as a guest on <paramref name="gateway"/>'s HTTP API.</summary>
    public static async Task<PlayerClient> GuestAsync(HttpClient http, Uri gateway, string deviceId, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(new Uri(gateway, "/v1/auth/guest"), new { deviceId, displayName = deviceId }, ct);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        return new PlayerClient(body.GetProperty("playerId").GetString()!, body.GetProperty("accessToken").GetString()!,
            body.GetProperty("refreshToken").GetString()!, body.GetProperty("sessionId").GetString()!);
    }

    /// <summary>Opens the socket and waits for the welcome frame.</summary>
    public async Task ConnectAsync(Uri gateway, CancellationToken ct)
    {
        Gateway = gateway;
        Closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var socket = new ClientWebSocket();
        var ws = new UriBuilder(gateway) { Scheme = "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(AccessToken) }.Uri;
        await socket.ConnectAsync(ws, ct);
        _socket = socket;
        var welcome = _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _receiver = Task.Run(() => ReceiveLoopAsync(socket), CancellationToken.None);
        var w = await welcome.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        ResumeToken = w.GetProperty("resumeToken").GetString();
    }

    /// <summary>Cuts the connection without a close handshake, as a lost network would.</summary>
    public async Task CutAsync()
    {
        _socket?.Abort();
        if (_receiver is not null)
        {
            await _receiver;
        }
        _socket?.Dispose();
        _socket = null;
    }

    /// <summary>Closes the socket with a normal close handshake, as a page being reloaded would.</summary>
    public async Task CloseAsync(CancellationToken ct)
    {
        if (_socket is { State: WebSocketState.Open } socket)
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "reload", ct);
        }
        if (_receiver is not null)
        {
            await _receiver;
        }
        _socket?.Dispose();
        _socket = null;
    }

    /// <summary>Reconnects and asks to resume from the last offset seen on each channel; returns the reply.</summary>
    public async Task<JsonElement> ReconnectAndResumeAsync(Uri gateway, CancellationToken ct)
    {
        var token = ResumeToken ?? throw new InvalidOperationException("no resume token: the first connection had no welcome");
        Gateway = gateway;
        Closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var socket = new ClientWebSocket();
        // resume=1: the gateway holds live events until the resume request says where this client stands.
        var ws = new UriBuilder(gateway) { Scheme = "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(AccessToken) + "&resume=1" }.Uri;
        await socket.ConnectAsync(ws, ct);
        _socket = socket;
        _receiver = Task.Run(() => ReceiveLoopAsync(socket), CancellationToken.None);
        // Where the client is on each channel: its last shown event, or where it joined if nothing arrived since.
        var positions = new Dictionary<string, object>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var (channelId, joined) in _joinedAt)
            {
                positions[channelId] = new { epoch = joined.Epoch, offset = joined.Offset };
            }
            foreach (var (channelId, list) in _events)
            {
                if (list.Count > 0)
                {
                    positions[channelId] = new { epoch = list[^1].Epoch, offset = list[^1].Offset };
                }
            }
        }
        return await RequestAsync("resume", new { resumeToken = token, positions }, ct);
    }

    /// <summary>Sends one request and waits for its reply; an error frame throws <see cref="GatewayErrorException"/>.</summary>
    public async Task<JsonElement> RequestAsync(string type, object? data, CancellationToken ct)
    {
        var cid = "c" + Interlocked.Increment(ref s_nextCid).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[cid] = reply;
        await SendRawAsync(JsonSerializer.SerializeToUtf8Bytes(new { type, cid, data }), ct);
        var frame = await reply.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        if (frame.GetProperty("type").GetString() == "error")
        {
            var error = frame.GetProperty("data");
            throw new GatewayErrorException(error.GetProperty("code").GetString()!, error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "");
        }
        return frame.TryGetProperty("data", out var d) ? d : default;
    }

    public async Task SendRawAsync(byte[] frame, CancellationToken ct)
    {
        var socket = _socket ?? throw new InvalidOperationException("not connected");
        await socket.SendAsync(frame, WebSocketMessageType.Text, true, ct);
    }

    /// <summary>Joins a channel and remembers where the stream stood, as the position to resume from.</summary>
    public async Task<JsonElement> JoinAsync(string channelId, CancellationToken ct)
    {
        var result = await RequestAsync("channel.join", new { channelId }, ct);
        var channel = result.GetProperty("channel");
        lock (_gate)
        {
            _joinedAt[channelId] = (channel.GetProperty("epoch").GetInt64(), channel.GetProperty("offset").GetInt64());
        }
        return result;
    }

    /// <summary>The chat events received on <paramref name="channelId"/>, in arrival order.</summary>
    public IReadOnlyList<ReceivedEvent> Events(string channelId)
    {
        lock (_gate)
        {
            return _events.TryGetValue(channelId, out var list) ? [.. list] : [];
        }
    }

    /// <summary>Completes once an event with an offset ≥ <paramref name="offset"/> arrived on the channel.</summary>
    public Task WaitForOffsetAsync(string channelId, long offset, TimeSpan timeout, CancellationToken ct)
    {
        lock (_gate)
        {
            if (_events.TryGetValue(channelId, out var list) && list.Count > 0 && list[^1].Offset >= offset)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((channelId, offset, done));
            return done.Task.WaitAsync(timeout, ct).ContinueWith(t =>
            {
                if (t.IsFaulted && t.Exception!.InnerException is TimeoutException)
                {
                    var last = Events(channelId) is { Count: > 0 } seen ? seen[^1].Offset : -1;
                    throw new TimeoutException($"player {PlayerId}: waited {timeout} for offset {offset} on {channelId}; last received {last}");
                }
                t.GetAwaiter().GetResult();
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Closed.TrySetResult(socket.CloseStatus);
                    return;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }
                // A message holds one envelope, or several, one per line, when the gateway batched a backlog.
                foreach (var line in message.ToArray().AsMemory().Split((byte)'\n'))
                {
                    Dispatch(JsonDocument.Parse(line).RootElement.Clone());
                }
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            Closed.TrySetResult(null);
        }
    }

    private void Dispatch(JsonElement frame)
    {
        var type = frame.GetProperty("type").GetString() ?? "";
        if (frame.TryGetProperty("cid", out var cid) && cid.ValueKind == JsonValueKind.String && _pending.TryRemove(cid.GetString()!, out var reply))
        {
            reply.TrySetResult(frame);
            return;
        }
        if (type == "session.welcome")
        {
            _welcome.TrySetResult(frame.GetProperty("data"));
            ResumeToken = frame.GetProperty("data").GetProperty("resumeToken").GetString();
            LastWelcome = frame.GetProperty("data");
            return;
        }
        if (type.StartsWith("chat.", StringComparison.Ordinal))
        {
            var data = frame.GetProperty("data");
            var received = new ReceivedEvent(type, data.GetProperty("channelId").GetString()!, data.GetProperty("epoch").GetInt64(), data.GetProperty("offset").GetInt64(), data);
            lock (_gate)
            {
                if (!_events.TryGetValue(received.ChannelId, out var list))
                {
                    _events[received.ChannelId] = list = [];
                }
                list.Add(received);
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].ChannelId == received.ChannelId && received.Offset >= _waiters[i].Offset)
                    {
                        _waiters[i].Done.TrySetResult();
                        _waiters.RemoveAt(i);
                    }
                }
            }
            return;
        }
        OtherFrames.Enqueue(frame);
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket is { State: WebSocketState.Open } socket)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
        _socket?.Dispose();
        if (_receiver is not null)
        {
            await _receiver;
        }
    }
}
