using System.Buffers;
using System.Net.WebSockets;
using System.Text.Unicode;
using DaprGame.Contracts.Chat;
using DaprGame.Gateway.Auth;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// <c>/ws</c>: checks the handshake before upgrading (token 401, origin 403, connection cap 429), then runs one
/// player socket: the welcome frame, the request loop (one request at a time, each answered with its cid) and the
/// writer loop. Protocol violations close only the offending socket, with the codes in <see cref="CloseCodes"/>.
/// </summary>
public sealed class SocketHandler(
    ConnectionRegistry connections,
    PushHub hub,
    TradingPushes trading,
    ChatOperations operations,
    IChatClient chat,
    RateLimiter limiter,
    ResumeStore resume,
    GatewayMetrics metrics,
    GatewayRealtimeLog log,
    IOptions<RealtimeOptions> options,
    IHostApplicationLifetime lifetime)
{
    private readonly RealtimeOptions _options = options.Value;

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "This endpoint only accepts WebSocket upgrades.");
            return;
        }
        if (!IsOriginAllowed(context.Request))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "Origin not allowed.");
            return;
        }
        var token = ReadToken(context.Request);
        if (token is null)
        {
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "Missing access token.");
            return;
        }
        var validator = context.RequestServices.GetService<IAccessTokenValidator>();
        var check = validator is null ? AccessTokenCheck.Invalid("no token validator is configured")
            : await validator.ValidateAsync(token, context.RequestAborted);
        if (check.Identity is not { } player)
        {
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "Invalid access token.");
            return;
        }
        if (!connections.TryReserve(player.PlayerId))
        {
            await RefuseAsync(context, StatusCodes.Status429TooManyRequests, $"At most {_options.MaxConnectionsPerPlayer} sockets per player.");
            return;
        }

        PlayerConnection? connection = null;
        try
        {
            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = TimeSpan.FromSeconds(_options.KeepAliveSeconds),
                DangerousEnableCompression = false,
            });
            connection = new PlayerConnection(
                ResumeStore.NewConnectionId(),
                player,
                ResumeStore.NewToken(),
                socket,
                _options.OutboundQueueFrames,
                TimeSpan.FromSeconds(_options.CloseTimeoutSeconds),
                c =>
                {
                    metrics.OverflowClose();
                    log.SlowConsumer(c.ConnectionId, c.PlayerId, c.QueuedFrames);
                });
            connections.Add(connection);
            metrics.SocketOpened();
            log.SocketOpened(connection.ConnectionId, player.PlayerId, player.SessionId);
            await RunAsync(connection, socket, WantsResume(context.Request), context.RequestAborted);
        }
        finally
        {
            if (connection is not null)
            {
                connection.Close(CloseCodes.GoingAway, "closing");
                hub.UnwatchAll(connection);
                trading.UnsubscribeAll(connection);
                resume.MarkDirty(connection);
                metrics.SocketClosed();
                log.SocketClosed(connection.ConnectionId, player.PlayerId, connection.CloseCode, connection.CloseReason);
                connection.Dispose();
            }
            connections.Release(player.PlayerId, connection);
        }
    }

    /// <summary>
    /// <c>/ws?…&amp;resume=1</c>: the client will make <c>resume</c> its first request, so live events are held until it
    /// says where it stands. Without it they flow from the welcome on — a client that only listens gets them.
    /// </summary>
    private static bool WantsResume(HttpRequest request) =>
        request.Query.TryGetValue("resume", out var flag) && flag.Count == 1 && flag[0] is "1" or "true";

    private async Task RunAsync(PlayerConnection connection, WebSocket socket, bool holdForResume, CancellationToken requestAborted)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var writer = Task.Run(() => connection.RunWriterAsync(stop.Token), CancellationToken.None);
        try
        {
            var mine = await chat.MyChannelsAsync(connection.PlayerId, stop.Token);
            if (mine.Value is not { } channels)
            {
                log.WelcomeFailed(connection.ConnectionId, mine.Error?.Code ?? "empty answer");
                connection.Close(CloseCodes.TryAgainLater, "chat unavailable, try again later");
            }
            else
            {
                try
                {
                    // Saved before the welcome goes out, so a client that is cut right after it can already resume.
                    await resume.SaveAsync(connection, stop.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.ResumeSaveFailed(connection.ConnectionId, ex);
                }
                connection.TryEnqueue(Frames.SessionWelcome(connection.ConnectionId, connection.ResumeToken, channels));
                foreach (var channel in channels)
                {
                    hub.Watch(connection, channel.ChannelId, channel.Epoch, channel.Offset);
                }
                if (!holdForResume)
                {
                    await hub.StartAsync(connection, null);
                }
            }
            await ReadLoopAsync(connection, socket, stop.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            connection.Close(CloseCodes.GoingAway, lifetime.ApplicationStopping.IsCancellationRequested ? "server stopping" : "connection lost");
        }
        finally
        {
            connection.Close(CloseCodes.GoingAway, "closing");
            await writer;
        }
    }

    private async Task ReadLoopAsync(PlayerConnection connection, WebSocket socket, CancellationToken cancellationToken)
    {
        var max = _options.MaxMessageBytes;
        // One buffer per socket for its lifetime, one byte larger than the cap so "exactly at the cap" and "over it"
        // are told apart without a second read.
        var buffer = ArrayPool<byte>.Shared.Rent(max + 1);
        try
        {
            var count = 0;
            var discarding = false;
            while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                var target = discarding || count > max ? buffer.AsMemory(0, Math.Min(buffer.Length, max + 1)) : buffer.AsMemory(count, max + 1 - count);
                var result = await socket.ReceiveAsync(target, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    connection.Close(CloseCodes.Normal, "closed by client", flush: true);
                    return;
                }
                if (connection.IsClosing)
                {
                    // A close was decided (ours or the writer's); read and drop until the client's close frame arrives.
                    continue;
                }
                if (result.MessageType != WebSocketMessageType.Text)
                {
                    connection.Close(CloseCodes.UnsupportedData, "only text frames are accepted", flush: true);
                    continue;
                }
                count += result.Count;
                if (count > max)
                {
                    connection.Close(CloseCodes.MessageTooBig, $"message larger than {max} bytes", flush: true);
                    discarding = true;
                    continue;
                }
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var message = buffer.AsMemory(0, count);
                count = 0;
                if (!Utf8.IsValid(message.Span))
                {
                    connection.Close(CloseCodes.InvalidPayload, "message is not valid UTF-8", flush: true);
                    continue;
                }
                await HandleMessageAsync(connection, message, cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task HandleMessageAsync(PlayerConnection connection, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var request = Envelope.Parse(message);
        var first = !connection.IsStarted;
        var rateClass = request.Command?.RateClass ?? RateClass.Other;
        var decision = limiter.TryAcquire(connection.PlayerId, rateClass);
        if (!decision.Allowed)
        {
            metrics.RateLimited(rateClass);
            if (decision.Flooding)
            {
                log.Flooding(connection.PlayerId, rateClass, connection.ConnectionId);
                connection.Close(CloseCodes.PolicyViolation, "request flood", flush: true);
                return;
            }
            connection.TryEnqueue(Frames.Fail(request.Cid, GatewayErrorCodes.RateLimited, "Too many requests; retry later.", decision.RetryAfterMs));
        }
        else if (request.Command is null)
        {
            connection.TryEnqueue(Frames.Fail(request.Cid, request.ErrorCode!, request.ErrorMessage!));
        }
        else if (request.Command is ResumeCommand resumeCommand)
        {
            if (first)
            {
                await ResumeAsync(connection, request.Cid, resumeCommand, cancellationToken);
                return;
            }
            connection.TryEnqueue(Frames.Fail(request.Cid, GatewayErrorCodes.Invalid, "resume must be the first request on a socket."));
        }
        else
        {
            if (first)
            {
                await hub.StartAsync(connection, null);
            }
            var result = request.Command switch
            {
                MarketSubscribeCommand m => await trading.SubscribeAsync(connection, m.Instrument!, cancellationToken),
                MarketUnsubscribeCommand m => Unsubscribed(connection, m.Instrument!),
                _ => await operations.ExecuteAsync(connection.Player, request.Command, cancellationToken),
            };
            AfterSuccess(connection, request.Command, result);
            connection.TryEnqueue(result.Error is { } error
                ? Frames.Fail(request.Cid, error.Code, error.Message)
                : Frames.Reply(request.Cid, result.Data));
            return;
        }
        if (first)
        {
            await hub.StartAsync(connection, null);
        }
    }

    private OpResult Unsubscribed(PlayerConnection connection, string instrument)
    {
        trading.Unsubscribe(connection, instrument);
        return new OpResult(null, null);
    }

    /// <summary>The socket's own effects of a successful request: it watches what it joined or created and stops watching what it left.</summary>
    private void AfterSuccess(PlayerConnection connection, Command command, OpResult result)
    {
        if (!result.Ok)
        {
            return;
        }
        switch (command)
        {
            case ChannelJoinCommand when result.Data is JoinResult joined:
                hub.Watch(connection, joined.Channel.ChannelId, joined.Recent.Epoch, joined.Recent.LatestOffset);
                break;
            case ChannelCreateCommand when result.Data is ChannelInfo created:
                hub.Watch(connection, created.ChannelId, created.Epoch, created.Offset);
                break;
            case ChannelLeaveCommand leave:
                hub.Unwatch(connection, leave.ChannelId!);
                break;
        }
    }

    private async Task ResumeAsync(PlayerConnection connection, string? cid, ResumeCommand command, CancellationToken cancellationToken)
    {
        ResumeRecord? record;
        try
        {
            record = await resume.LoadAsync(command.ResumeToken!, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.ResumeSaveFailed(connection.ConnectionId, ex);
            await hub.StartAsync(connection, null);
            connection.TryEnqueue(Frames.Fail(cid, GatewayErrorCodes.Unavailable, "Resume state is unavailable; re-list your channels."));
            return;
        }
        if (record is null || record.PlayerId != connection.PlayerId)
        {
            await hub.StartAsync(connection, null);
            connection.TryEnqueue(Frames.Fail(cid, GatewayErrorCodes.ResumeExpired, "The resume token is unknown or expired; re-list your channels."));
            return;
        }
        var statuses = await hub.StartAsync(connection, command.Positions);
        if (command.ResumeToken != connection.ResumeToken)
        {
            // A token is good for one resume: the new socket has its own.
            try
            {
                await resume.DeleteAsync(command.ResumeToken!, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.ResumeSaveFailed(connection.ConnectionId, ex);
            }
        }
        connection.TryEnqueue(Frames.Reply(cid, new ResumeReply(statuses)));
    }

    private bool IsOriginAllowed(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(origin))
        {
            return true;
        }
        var own = request.Scheme + "://" + request.Host.Value;
        if (string.Equals(origin, own, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        foreach (var allowed in _options.AllowedOrigins)
        {
            if (string.Equals(origin, allowed.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static string? ReadToken(HttpRequest request)
    {
        if (request.Query.TryGetValue("access_token", out var query) && query.ToString() is { Length: > 0 } fromQuery)
        {
            return fromQuery;
        }
        var header = request.Headers[HeaderNames.Authorization].ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }

    private async Task RefuseAsync(HttpContext context, int status, string reason)
    {
        log.UpgradeRefused(status, reason);
        await Results.Problem(statusCode: status, detail: reason).ExecuteAsync(context);
    }
}

/// <summary>The answer to <c>resume</c>: per channel, <c>resumed</c>, <c>truncated</c> (re-list it) or <c>live</c> (no position given).</summary>
public sealed record ResumeReply(IReadOnlyDictionary<string, string> Channels);
