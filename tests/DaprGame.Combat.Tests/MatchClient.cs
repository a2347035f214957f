using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Matches;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Tests;

/// <summary>A received server frame, decoded.</summary>
public sealed record ServerFrame(byte Type, byte[] Bytes)
{
    public int WelcomeEntity => BinaryPrimitives.ReadInt32LittleEndian(Bytes.AsSpan(1));

    public int WelcomeTickRate => BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan(9));

    public int WelcomeTick => BinaryPrimitives.ReadInt32LittleEndian(Bytes.AsSpan(11));

    public int SnapshotTick => BinaryPrimitives.ReadInt32LittleEndian(Bytes.AsSpan(1));

    public int SnapshotBaseline => BinaryPrimitives.ReadInt32LittleEndian(Bytes.AsSpan(5));

    public uint SnapshotLastSequence => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan(9));

    /// <summary>The simulation's own bytes; for the fake: 0 = full, 1 = delta.</summary>
    public ReadOnlySpan<byte> SnapshotBody => Bytes.AsSpan(13);

    public JsonElement EndJson => JsonDocument.Parse(Bytes.AsMemory(1)).RootElement;
}

/// <summary>A match socket client speaking the binary frames of services/combat/README.md.</summary>
public sealed class MatchClient : IDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];

    private MatchClient(ClientWebSocket socket) => _socket = socket;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseDescription => _socket.CloseStatusDescription;

    public static async Task<MatchClient> ConnectAsync(Uri address, string? matchId, string ticket)
    {
        var socket = new ClientWebSocket();
        var query = (matchId is null ? "" : "match=" + Uri.EscapeDataString(matchId) + "&") + "ticket=" + Uri.EscapeDataString(ticket);
        await socket.ConnectAsync(new UriBuilder(address) { Query = query }.Uri, TestContext.Current.CancellationToken);
        return new MatchClient(socket);
    }

    public Task SendInputAsync(uint sequence, int tick, int entity, short moveX = 0, short moveY = 0, InputButtons buttons = InputButtons.None) =>
        SendAsync(ClientFrames.Input(new PlayerInput
        {
            Sequence = sequence, Tick = tick, ViewTick = tick, Entity = entity, MoveX = moveX, MoveY = moveY, AimX = 1, AimY = 0, Buttons = buttons,
        }));

    public Task AckAsync(int tick) => SendAsync(ClientFrames.Ack(tick));

    public Task SendAsync(byte[] frame, WebSocketMessageType type = WebSocketMessageType.Binary) =>
        _socket.SendAsync(frame, type, true, TestContext.Current.CancellationToken);

    public Task SendTextAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    /// <summary>The next frame, or null when the server closed the socket.</summary>
    public async Task<ServerFrame?> ReceiveAsync(string waitingFor)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(CombatRig.WaitLimit);
        var length = 0;
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(_buffer.AsMemory(length), deadline.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }
                length += result.Count;
                if (result.EndOfMessage)
                {
                    return new ServerFrame(_buffer[0], _buffer.AsSpan(0, length).ToArray());
                }
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no frame within {CombatRig.WaitLimit} while waiting for {waitingFor}");
        }
    }

    /// <summary>The next frame of <paramref name="type"/>, skipping others (snapshots of earlier ticks).</summary>
    public async Task<ServerFrame> ReceiveAsync(byte type, Func<ServerFrame, bool>? match = null)
    {
        while (true)
        {
            var frame = await ReceiveAsync($"frame 0x{type:x2}") ?? throw new InvalidOperationException(
                $"the socket closed ({CloseStatus} {CloseDescription}) while waiting for frame 0x{type:x2}");
            if (frame.Type == type && (match is null || match(frame)))
            {
                return frame;
            }
        }
    }

    /// <summary>Reads until the server closes; returns the close status and description.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Description)> ClosedAsync()
    {
        while (await ReceiveAsync("the close") is not null)
        {
        }
        return (CloseStatus, CloseDescription);
    }

    public async Task CloseAsync()
    {
        using var wait = new CancellationTokenSource(CombatRig.WaitLimit);
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", wait.Token);
        }
        catch (WebSocketException)
        {
        }
    }

    public void Dispose() => _socket.Dispose();
}
