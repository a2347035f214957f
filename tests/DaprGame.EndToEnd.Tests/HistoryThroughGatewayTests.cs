using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DaprGame.Contracts;
using DaprGame.Contracts.Chat;
using DaprGame.Contracts.Trading;
using DaprGame.Hosting;
using DaprGame.Testing;
using static DaprGame.EndToEnd.Tests.GatewayHttp;

namespace DaprGame.EndToEnd.Tests;

/// <summary>
/// History as players reach it: trading and chat publish, persistence logs every event and keeps its views, and the
/// gateway answers <c>/v1/history/…</c> for the caller only (and a channel's messages for its members only).
/// </summary>
public sealed class HistoryThroughGatewayTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Players_read_their_own_trades_profile_and_their_channels_history_and_nobody_elses()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await LocalCluster.StartAsync(ClusterProfile.Local,
        [
            new ClusterApp(AppIds.Persistence, (args, configure) => DaprGame.Persistence.PersistenceApp.Build(args, configure)),
            new ClusterApp(AppIds.Trading, (args, configure) => DaprGame.Trading.TradingApp.Build(args, configure), 1, b => b.Configuration["Trading:SettlementRetry"] = "00:00:01"),
            new ClusterApp(AppIds.Chat, (args, configure) => DaprGame.Chat.ChatApp.Build(args, configure)),
            new ClusterApp(AppIds.Gateway, (args, configure) => DaprGame.Gateway.GatewayApp.Build(args, configure), 1, b =>
            {
                b.Configuration["Auth:Pbkdf2Iterations"] = "1000";
                b.Configuration["Auth:Admins"] = "banker";
            }),
        ]);
        using var http = new HttpClient { BaseAddress = cluster.Node(AppIds.Gateway).AppAddress };
        var banker = await TokenAsync(http, "/v1/auth/register", new { username = "banker", password = "correct horse battery" }, ct);
        var (seller, sellerId) = await GuestAsync(http, "hist-seller-01", ct);
        var (buyer, buyerId) = await GuestAsync(http, "hist-buyer-01", ct);
        var (outsider, _) = await GuestAsync(http, "hist-outsider-01", ct);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, banker, HttpMethod.Post, $"/v1/trading/admin/wallets/{sellerId}/mint", new AdminAdjustment("seed-s", new Assets { Stacks = { ["iron-sword"] = 3 } }, "seed"), ct)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, banker, HttpMethod.Post, $"/v1/trading/admin/wallets/{buyerId}/mint", new AdminAdjustment("seed-b", new Assets { Currencies = { ["GOLD"] = 1_000 } }, "seed"), ct)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, seller, HttpMethod.Post, "/v1/trading/orders", new PlaceOrder("iron-sword-GOLD", "s1", OrderSide.Sell, OrderKind.Limit, 200, 3), ct)).Status);
        var (placed, order) = await SendAsync(http, buyer, HttpMethod.Post, "/v1/trading/orders", new PlaceOrder("iron-sword-GOLD", "b1", OrderSide.Buy, OrderKind.Limit, 200, 2), ct);
        Assert.Equal(HttpStatusCode.OK, placed);
        var fillId = order.GetProperty("fillIds")[0].GetString()!;

        // The fill reaches the log and the buyer's trade history; each poll is a real request through the gateway.
        var trades = await UntilAsync(http, buyer, "/v1/history/me/trades", b => b.GetArrayLength() > 0, ct);
        var trade = trades[0];
        Assert.Equal(fillId, trade.GetProperty("fillId").GetString());
        Assert.Equal((200L, 2L, sellerId), (trade.GetProperty("price").GetInt64(), trade.GetProperty("quantity").GetInt64(), trade.GetProperty("counterparty").GetString()));
        var sellerTrades = await UntilAsync(http, seller, "/v1/history/me/trades", b => b.GetArrayLength() > 0, ct);
        Assert.Equal(buyerId, sellerTrades[0].GetProperty("counterparty").GetString());
        // The buyer's profile follows its wallet events to the settled balance: 1,000 − 2 × 200 = 600 GOLD.
        var profile = await UntilAsync(http, buyer, "/v1/history/me/profile",
            b => b.ValueKind == JsonValueKind.Object && b.TryGetProperty("assets", out var a) && a.TryGetProperty("currency:GOLD", out var g)
                && g.GetProperty("available").GetInt64() == 600 && g.GetProperty("held").GetInt64() == 0, ct);
        Assert.Equal(buyerId, profile.GetProperty("playerId").GetString());

        // Chat: the seller's group and its messages, served from the log, to members only.
        var (created, channel) = await SendAsync(http, seller, HttpMethod.Post, "/v1/chat/channels", new { kind = "group", name = "guild" }, ct);
        Assert.Equal(HttpStatusCode.OK, created);
        var channelId = channel.GetProperty("channelId").GetString()!;
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, seller, HttpMethod.Post, $"/v1/chat/channels/{channelId}/messages", new { clientMessageId = $"m{i}", text = $"hello {i}" }, ct)).Status);
        }
        var page = await UntilAsync(http, seller, $"/v1/history/channels/{channelId}/messages?from=0&limit=10", b => b.GetProperty("messages").GetArrayLength() == 3, ct);
        Assert.Equal(["hello 1", "hello 2", "hello 3"], page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()));

        var (refused, problem) = await SendAsync(http, outsider, HttpMethod.Get, $"/v1/history/channels/{channelId}/messages", null, ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.Equal(ChatErrorCodes.NotMember, problem.GetProperty("code").GetString());
        // There is no route to another player's history, and no admin route through the gateway.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, outsider, HttpMethod.Get, $"/v1/history/players/{buyerId}/trades", null, ct)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, banker, HttpMethod.Post, "/v1/history/admin/rollback", new { toPosition = 1 }, ct)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, null, HttpMethod.Get, "/v1/history/me/trades", null, ct)).Status);
    }

    private static async Task<JsonElement> UntilAsync(HttpClient http, string token, string route, Func<JsonElement, bool> done, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Wait);
        while (true)
        {
            var (status, body) = await SendAsync(http, token, HttpMethod.Get, route, null, deadline.Token);
            if (status == HttpStatusCode.OK && done(body))
            {
                return body;
            }
            await Task.Yield();
        }
    }
}
