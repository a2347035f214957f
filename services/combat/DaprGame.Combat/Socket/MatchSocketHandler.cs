using System.Net.WebSockets;
using System.Text;
using DaprGame.Combat.Infrastructure;
using DaprGame.Combat.Matches;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Socket;

/// <summary>
/// The match socket (<c>/match?match={id}&amp;ticket={ticket}</c>, or the ticket as the first text frame). A ticket that
/// is invalid, expired, replayed or for another match closes the socket with 1008 (policy violation) before anything
/// reaches the match. Then: a welcome frame, a snapshot every tick, the end frame. The reader decodes input and ack
/// frames; oversize or malformed frames are dropped and counted, and enough of them close the socket — never the match.
/// One writer task owns every send (snapshots, end, close), so sends never overlap.
/// </summary>
public sealed class MatchSocketHandler(
    TicketVerifier tickets,
    MatchRunner runner,
    CombatOptions options,
    CombatMetrics metrics,
    ILogger<MatchSocketHandler> logger)
{
    private static readonly TimeSpan FirstFrameWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("the match socket is a WebSocket: /match?match={id}&ticket={ticket}", context.RequestAborted);
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var ct = context.RequestAborted;
        var ticket = context.Request.Query["ticket"].ToString();
        if (ticket.Length == 0)
        {
            ticket = await FirstTextFrameAsync(socket, ct) ?? "";
        }
        var check = await tickets.VerifyAsync(ticket, ct);
        var wanted = context.Request.Query["match"].ToString();
        if (check.Error is null && wanted.Length > 0 && wanted != check.MatchId)
        {
            check = TicketCheck.Refused("other_match");
        }
        var connection = new MatchConnection(check.PlayerId ?? "", options.SendQueue);
        var attached = check.Error is null ? runner.Attach(check.MatchId!, check.PlayerId!, connection) : null;
        if (check.Error is null && attached is null)
        {
            check = TicketCheck.Refused("not_in_match");
        }
        if (check.Error is { } refused)
        {
            metrics.TicketRefused(refused);
            CombatLog.TicketRefused(logger, check.PlayerId, refused);
            await CloseAsync(socket, WebSocketCloseStatus.PolicyViolation, "ticket: " + refused);
            return;
        }
        var (seat, _, _, resume) = attached!.Value;
        CombatLog.Connected(logger, check.MatchId!, check.PlayerId!, seat.Entity, resume);

        using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writer = WriteAsync(socket, connection, reading);
        try
        {
            await ReadAsync(socket, check.MatchId!, seat, connection, reading.Token);
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
            // The client went away or the writer finished the close handshake: the seat waits for a reconnect.
        }
        finally
        {
            runner.Detach(check.MatchId!, seat, connection);
            connection.Close("disconnected");
            await writer;
        }
    }

    /// <summary>Decodes client frames until the socket closes.</summary>
    private async Task ReadAsync(WebSocket socket, string matchId, PlayerSeat seat, MatchConnection connection, CancellationToken ct)
    {
        // One frame at most MaxClientFrame bytes; one byte more tells an oversize frame apart.
        var buffer = new byte[MatchFrameTypes.MaxClientFrame + 1];
        var bad = 0;
        while (socket.State == WebSocketState.Open)
        {
            var length = 0;
            var oversize = false;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == buffer.Length)
                {
                    // Oversize: the rest of the message is read and thrown away.
                    oversize = true;
                    length = 0;
                }
                result = await socket.ReceiveAsync(buffer.AsMemory(length), ct);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                connection.Close("client closed");
                return;
            }
            oversize |= length > MatchFrameTypes.MaxClientFrame;
            var reason = oversize ? "oversize"
                : result.MessageType != WebSocketMessageType.Binary ? "malformed"
                : Decode(buffer.AsSpan(0, length), seat, connection);
            if (reason is null)
            {
                if (buffer[0] == MatchFrameTypes.Input)
                {
                    metrics.InputReceived();
                }
                continue;
            }
            if (reason == "flood")
            {
                // A full input queue is the client's flood, not a protocol error: dropped and counted, the socket stays.
                metrics.InputRejected(reason);
                continue;
            }
            metrics.FrameDropped(reason);
            if (++bad >= options.MaxBadFrames)
            {
                CombatLog.TooManyBadFrames(logger, matchId, seat.PlayerId, bad);
                connection.Close(oversize ? "too many oversize frames" : "too many malformed frames", status: oversize ? WebSocketCloseStatus.MessageTooBig : WebSocketCloseStatus.PolicyViolation);
                return;
            }
        }
    }

    /// <summary>Null when the frame was taken; otherwise why it was dropped.</summary>
    private static string? Decode(ReadOnlySpan<byte> frame, PlayerSeat seat, MatchConnection connection)
    {
        if (ClientFrames.ReadInput(frame) is { } input)
        {
            if (seat.Inputs.Writer.TryWrite(input))
            {
                return null;
            }
            seat.CountFlood();
            return "flood";
        }
        if (ClientFrames.ReadAck(frame) is { } tick)
        {
            return connection.Acknowledge(tick, int.MaxValue) ? null : "malformed";
        }
        return "malformed";
    }

    /// <summary>Sends what the loop queues, then the close frame; stops the reader when the peer does not answer the close.</summary>
    private async Task WriteAsync(WebSocket socket, MatchConnection connection, CancellationTokenSource reading)
    {
        try
        {
            await foreach (var frame in connection.Outbound.ReadAllAsync(CancellationToken.None))
            {
                await socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, reading.Token);
                if (frame[0] != MatchFrameTypes.Snapshot)
                {
                    metrics.BytesSent(frame.Length);
                }
            }
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(connection.CloseStatus, connection.ClosedReason, CancellationToken.None);
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        reading.CancelAfter(CloseWait);
    }

    private static async Task<string?> FirstTextFrameAsync(WebSocket socket, CancellationToken ct)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(FirstFrameWait);
        var buffer = new byte[2048];
        try
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), wait.Token);
            return result.MessageType == WebSocketMessageType.Text && result.EndOfMessage ? Encoding.UTF8.GetString(buffer, 0, result.Count) : null;
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        using var wait = new CancellationTokenSource(CloseWait);
        try
        {
            await socket.CloseAsync(status, reason, wait.Token);
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
        }
    }
}
