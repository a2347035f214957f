using System.Text.Json;
using DaprGame.Contracts.Trading;
using DaprGame.Gateway.Auth;
using DaprGame.Gateway.Endpoints;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// Trading on the socket. Every replica receives every trading event (<c>broadcast</c>): an event that names players
/// (an order's owner, both sides of a fill, a settlement's or a trade's parties) goes to their sockets here; a book
/// delta goes to the sockets that subscribed to its instrument with <c>market.subscribe</c>. Frames are built once per
/// event and shared. Delivery is at-least-once and unordered across events, like the broker's: deltas carry book
/// sequence numbers, so a client that sees one skip re-subscribes for a fresh snapshot.
/// </summary>
public sealed class TradingPushes(ConnectionRegistry connections, TradingInvoker trading, GatewayMetrics metrics)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<PlayerConnection>> _markets = new(StringComparer.Ordinal);

    /// <summary>Sockets watching each instrument on this replica.</summary>
    public int Watchers(string instrument)
    {
        lock (_lock)
        {
            return _markets.TryGetValue(instrument, out var set) ? set.Count : 0;
        }
    }

    /// <summary>A trading event as the broker delivered it (only its data).</summary>
    public void Publish(JsonElement evt)
    {
        if (TradingEventShapes.TypeOf(evt) is not { } type)
        {
            return;
        }
        var frame = Frames.Push(type, evt);
        var sent = 0;
        if (type == TradingBookDelta.EventType)
        {
            if (!evt.TryGetProperty("instrument", out var i) || i.GetString() is not { } instrument)
            {
                return;
            }
            PlayerConnection[] watchers;
            lock (_lock)
            {
                watchers = _markets.TryGetValue(instrument, out var set) ? [.. set] : [];
            }
            foreach (var c in watchers)
            {
                sent += c.TryEnqueue(frame) ? 1 : 0;
            }
        }
        else
        {
            foreach (var player in TradingEventShapes.PlayersOf(evt))
            {
                foreach (var c in connections.ConnectionsOf(player))
                {
                    sent += c.TryEnqueue(frame) ? 1 : 0;
                }
            }
        }
        if (sent > 0)
        {
            metrics.FramesPushed(sent);
        }
    }

    /// <summary>Starts deltas for the socket first, then reads the snapshot, so no delta after the snapshot is missed.</summary>
    public async Task<OpResult> SubscribeAsync(PlayerConnection connection, string instrument, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_markets.TryGetValue(instrument, out var set))
            {
                _markets[instrument] = set = [];
            }
            set.Add(connection);
        }
        var (depth, error) = await DepthAsync(connection.Player, instrument, cancellationToken);
        if (error is not null)
        {
            Unsubscribe(connection, instrument);
            return new OpResult(null, error);
        }
        return new OpResult(depth, null);
    }

    public void Unsubscribe(PlayerConnection connection, string instrument)
    {
        lock (_lock)
        {
            if (_markets.TryGetValue(instrument, out var set) && set.Remove(connection) && set.Count == 0)
            {
                _markets.Remove(instrument);
            }
        }
    }

    public void UnsubscribeAll(PlayerConnection connection)
    {
        lock (_lock)
        {
            foreach (var (instrument, set) in _markets.ToList())
            {
                if (set.Remove(connection) && set.Count == 0)
                {
                    _markets.Remove(instrument);
                }
            }
        }
    }

    private async Task<(DepthView? Depth, ChatError? Error)> DepthAsync(PlayerIdentity player, string instrument, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/books/" + Uri.EscapeDataString(instrument) + "/depth?levels=50");
        request.Headers.Add(TradingHeaders.PlayerId, player.PlayerId);
        request.Headers.Add(TradingHeaders.Roles, string.Join(',', player.Roles));
        try
        {
            using var response = await trading.Http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return (await response.Content.ReadFromJsonAsync<DepthView>(Hosting.ServiceDefaults.JsonOptions, cancellationToken), null);
            }
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            var code = problem.TryGetProperty("code", out var c) ? c.GetString() ?? GatewayErrorCodes.Unavailable : GatewayErrorCodes.Unavailable;
            var detail = problem.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
            return (null, new ChatError(code, detail, (int)response.StatusCode));
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException)
        {
            return (null, new ChatError(GatewayErrorCodes.Unavailable, "trading is unavailable; try again", 503));
        }
    }
}
