using System.Net.WebSockets;
using DaprGame.Gateway.Auth;
using DaprGame.Gateway.Realtime;
using Microsoft.Extensions.DependencyInjection;

namespace DaprGame.Gateway.Tests.Realtime;

public sealed class RateLimitAndRevocationTests
{
    [Fact]
    public async Task Over_the_limit_gets_rate_limited_frames_time_refills_and_a_flood_is_closed_with_1008()
    {
        await using var rig = await GatewayRig.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:RateLimits:Send:PerSecond"] = "2",
            ["Gateway:RateLimits:Send:Burst"] = "3",
            ["Gateway:RateLimits:FloodFactor"] = "10",
            ["Gateway:RateLimits:FloodWindowSeconds"] = "5",
        });
        rig.Chat.AddChannel("room-lobby", members: ["p1"]);
        var (socket, _) = await rig.ConnectStartedAsync("p1");
        await using var _s = socket;

        for (var i = 0; i < 3; i++)
        {
            var (ok, _) = await socket.RequestAmidPushesAsync("message.send", new { channelId = "room-lobby", clientMessageId = "m" + i, text = "hi" });
            Assert.Equal(Frames.Ok, ok.GetProperty("type").GetString());
        }
        var (limited, _) = await socket.RequestAmidPushesAsync("message.send", new { channelId = "room-lobby", clientMessageId = "m3", text = "hi" });
        Assert.Equal(GatewayErrorCodes.RateLimited, limited.GetProperty("data").GetProperty("code").GetString());
        Assert.Equal(500, limited.GetProperty("data").GetProperty("retryAfterMs").GetInt64());
        // Other classes have their own buckets.
        Assert.Equal(Frames.Ok, (await socket.RequestAmidPushesAsync("ping", null)).Reply.GetProperty("type").GetString());

        rig.Time.Advance(TimeSpan.FromMilliseconds(500));
        var (again, _) = await socket.RequestAmidPushesAsync("message.send", new { channelId = "room-lobby", clientMessageId = "m4", text = "hi" });
        Assert.Equal(Frames.Ok, again.GetProperty("type").GetString());

        // 10 × 2/s × 5 s = 100 refusals in the window are tolerated (m3 above was the first); the 101st closes the socket.
        var refused = 0;
        for (var i = 0; i < 101; i++)
        {
            await socket.SendRequestAsync("message.send", new { channelId = "room-lobby", clientMessageId = "f" + i, text = "spam" });
        }
        var frames = await socket.ReadUntilClosedAsync();
        foreach (var f in frames)
        {
            if (f.GetProperty("type").GetString() == Frames.Error)
            {
                Assert.Equal(GatewayErrorCodes.RateLimited, f.GetProperty("data").GetProperty("code").GetString());
                refused++;
            }
        }
        Assert.True(refused == 99, $"{refused} refusals, close {socket.CloseStatus} {socket.Socket.CloseStatusDescription}, frames: {string.Join(" | ", frames.Select(f => f.GetRawText()).Take(5))}");
        Assert.Equal((WebSocketCloseStatus)CloseCodes.PolicyViolation, socket.CloseStatus);
        Assert.Equal(4, rig.Chat.Events("room-lobby").Length);
    }

    [Fact]
    public async Task A_revoked_session_has_its_sockets_closed_with_4001_and_other_sessions_stay()
    {
        await using var rig = await GatewayRig.StartAsync();
        var (revoked, _) = await rig.ConnectStartedAsync("p1", "s1");
        await using var _r = revoked;
        var (kept, _) = await rig.ConnectStartedAsync("p1", "s2");
        await using var _k = kept;

        rig.Node.Services.GetRequiredService<SessionRevocationHub>().Raise("p1", "s1");

        await revoked.ReadUntilClosedAsync();
        Assert.Equal((WebSocketCloseStatus)CloseCodes.SessionRevoked, revoked.CloseStatus);
        Assert.Equal(Frames.Ok, (await kept.RequestAsync("ping", null)).GetProperty("type").GetString());
    }
}
