using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using DaprGame.Contracts;
using DaprGame.Contracts.Trading;
using DaprGame.Hosting;
using DaprGame.Testing;
using static DaprGame.EndToEnd.Tests.GatewayHttp;

namespace DaprGame.EndToEnd.Tests;

/// <summary>
/// Trading as players reach it: through the gateway (<c>/v1/trading/…</c>, the player and roles taken from the access
/// token), to two trading replicas that share the actors, on the local profile.
/// </summary>
public sealed class TradingThroughGatewayTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Players_trade_through_the_gateway_and_cannot_speak_for_each_other()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await LocalCluster.StartAsync(ClusterProfile.Local,
        [
            new ClusterApp(AppIds.Trading, (args, configure) => DaprGame.Trading.TradingApp.Build(args, configure), 2, b => b.Configuration["Trading:SettlementRetry"] = "00:00:01"),
            // The socket's welcome lists the player's chat channels, so chat is part of the slice.
            new ClusterApp(AppIds.Chat, (args, configure) => DaprGame.Chat.ChatApp.Build(args, configure)),
            new ClusterApp(AppIds.Gateway, (args, configure) => DaprGame.Gateway.GatewayApp.Build(args, configure), 1, b =>
            {
                b.Configuration["Auth:Pbkdf2Iterations"] = "1000";
                b.Configuration["Auth:Admins"] = "banker";
            }),
        ]);
        using var http = new HttpClient { BaseAddress = cluster.Node(AppIds.Gateway).AppAddress };

        var banker = await TokenAsync(http, "/v1/auth/register", new { username = "banker", password = "correct horse battery" }, ct);
        var (seller, sellerId) = await GuestAsync(http, "seller-device-01", ct);
        var (buyer, buyerId) = await GuestAsync(http, "buyer-device-01", ct);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, banker, HttpMethod.Post, $"/v1/trading/admin/wallets/{sellerId}/mint", new AdminAdjustment("seed-s", new Assets { Stacks = { ["iron-sword"] = 3 } }, "seed"), ct)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, banker, HttpMethod.Post, $"/v1/trading/admin/wallets/{buyerId}/mint", new AdminAdjustment("seed-b", new Assets { Currencies = { ["GOLD"] = 1_000 } }, "seed"), ct)).Status);
        // A player is not an admin, whatever headers the client sends: the gateway sets them from the token.
        var (status, body) = await SendAsync(http, buyer, HttpMethod.Post, $"/v1/trading/admin/wallets/{buyerId}/mint", new AdminAdjustment("self", new Assets { Currencies = { ["GOLD"] = 1 } }, "x"), ct,
            extra: r => { r.Headers.Add(TradingHeaders.Roles, "admin"); r.Headers.Add(TradingHeaders.PlayerId, "someone-else"); });
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(TradingErrorCodes.Forbidden, body.GetProperty("code").GetString());

        // The seller listens on a socket for its own trading events; the buyer watches the market.
        var gatewayUri = cluster.Node(AppIds.Gateway).AppAddress;
        using var sellerSocket = await SocketAsync(gatewayUri, seller, ct);
        using var buyerSocket = await SocketAsync(gatewayUri, buyer, ct);
        await SendFrameAsync(buyerSocket, new { type = "market.subscribe", cid = "m1", data = new { instrument = "iron-sword-GOLD" } }, ct);
        var snapshot = await ReceiveUntilAsync(buyerSocket, f => f.GetProperty("type").GetString() == "ok", ct);
        Assert.Equal(0, snapshot.GetProperty("data").GetProperty("asks").GetArrayLength());

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, seller, HttpMethod.Post, "/v1/trading/orders", new PlaceOrder("iron-sword-GOLD", "s1", OrderSide.Sell, OrderKind.Limit, 200, 3), ct)).Status);
        var delta = await ReceiveUntilAsync(buyerSocket, f => f.GetProperty("type").GetString() == TradingBookDelta.EventType, ct);
        var change = delta.GetProperty("data").GetProperty("changes")[0];
        Assert.Equal(200, change.GetProperty("price").GetInt64());
        Assert.Equal(3, change.GetProperty("quantity").GetInt64());
        var (placed, order) = await SendAsync(http, buyer, HttpMethod.Post, "/v1/trading/orders", new PlaceOrder("iron-sword-GOLD", "b1", OrderSide.Buy, OrderKind.Limit, 200, 2), ct);
        Assert.Equal(HttpStatusCode.OK, placed);
        var fillId = order.GetProperty("fillIds")[0].GetString()!;

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Wait);
        while (true)
        {
            // Each poll is a real request; the settlement runs on its own reminder.
            var (_, settlement) = await SendAsync(http, seller, HttpMethod.Get, $"/v1/trading/settlements/{fillId}", null, deadline.Token);
            if (settlement.GetProperty("status").GetString() == "settled")
            {
                break;
            }
            await Task.Yield();
        }
        // The seller's socket carried its order's acceptance, the fill and the settlement — and no other player's orders.
        var sellerEvents = new List<string>();
        var sellerGold = new List<long>();
        void Note(JsonElement f)
        {
            sellerEvents.Add(f.GetProperty("type").GetString()!);
            if (sellerEvents[^1] == TradingWalletChanged.EventType)
            {
                Assert.Equal(sellerId, f.GetProperty("data").GetProperty("playerId").GetString());
                sellerGold.AddRange(f.GetProperty("data").GetProperty("entries").EnumerateArray()
                    .Where(e => e.GetProperty("asset").GetString() == "currency:GOLD").Select(e => e.GetProperty("availableAfter").GetInt64()));
            }
        }
        await ReceiveUntilAsync(sellerSocket, f =>
        {
            Note(f);
            return sellerEvents[^1] == TradingSettlementCompleted.EventType;
        }, ct);
        Assert.Contains(TradingOrderAccepted.EventType, sellerEvents);
        Assert.Contains(TradingFill.EventType, sellerEvents);
        Assert.DoesNotContain(TradingBookDelta.EventType, sellerEvents);
        Assert.Equal(1, sellerEvents.Count(e => e == TradingOrderAccepted.EventType));
        // Balance pushes: the seller's own wallet changes (the hold, then the proceeds) reach its socket too.
        if (!sellerGold.Contains(396))
        {
            await ReceiveUntilAsync(sellerSocket, f =>
            {
                Note(f);
                return sellerGold.Contains(396);
            }, ct);
        }

        var (_, buyerWallet) = await SendAsync(http, buyer, HttpMethod.Get, "/v1/trading/wallet", null, ct);
        var (_, sellerWallet) = await SendAsync(http, seller, HttpMethod.Get, "/v1/trading/wallet", null, ct);
        Assert.Equal(600, buyerWallet.GetProperty("currencies")[0].GetProperty("available").GetInt64());
        Assert.Equal(2, buyerWallet.GetProperty("stacks")[0].GetProperty("available").GetInt64());
        Assert.Equal(396, sellerWallet.GetProperty("currencies")[0].GetProperty("available").GetInt64());   // 400 − 1 % fee
        // The buyer cannot cancel the seller's order, nor read the seller's wallet: everything is scoped to the token.
        var (cancel, _) = await SendAsync(http, buyer, HttpMethod.Delete, $"/v1/trading/books/iron-sword-GOLD/orders/1", null, ct);
        Assert.Equal(HttpStatusCode.NotFound, cancel);
        var (anonymous, _) = await SendAsync(http, null, HttpMethod.Get, "/v1/trading/wallet", null, ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
    }

    private static async Task<ClientWebSocket> SocketAsync(Uri gateway, string token, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(gateway) { Scheme = "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(token) }.Uri, ct);
        await ReceiveUntilAsync(socket, f => f.GetProperty("type").GetString() == "session.welcome", ct);
        return socket;
    }

    private static Task SendFrameAsync(ClientWebSocket socket, object frame, CancellationToken ct) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame), WebSocketMessageType.Text, true, ct);

    /// <summary>Reads frames (one or more envelopes per message, a line each) until one matches; fails after the wait.</summary>
    private static async Task<JsonElement> ReceiveUntilAsync(ClientWebSocket socket, Func<JsonElement, bool> match, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Wait);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, deadline.Token);
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            var text = Encoding.UTF8.GetString(message.ToArray());
            message.SetLength(0);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var frame = JsonDocument.Parse(line).RootElement.Clone();
                if (match(frame))
                {
                    return frame;
                }
            }
        }
    }
}
