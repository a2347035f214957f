using System.Net;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>RELIABILITY #24: refusals happen before the upgrade, so a refused client never holds a socket.</summary>
public sealed class HandshakeTests
{
    [Fact]
    public async Task Foreign_origin_missing_or_bad_token_are_refused_before_the_upgrade()
    {
        await using var rig = await GatewayRig.StartAsync(new Dictionary<string, string?> { ["Gateway:AllowedOrigins:0"] = "https://game.example" });

        Assert.Equal(HttpStatusCode.Forbidden, await TestSocket.RefusedStatusAsync(rig.SocketUri, "test:p1:s1", origin: "https://evil.example"));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestSocket.RefusedStatusAsync(rig.SocketUri, token: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestSocket.RefusedStatusAsync(rig.SocketUri, "forged-token"));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestSocket.RefusedStatusAsync(rig.SocketUri, token: null, bearerHeader: "forged"));
        Assert.Equal(0, rig.Connections.Count);
        Assert.Empty(rig.Chat.PresenceReports);

        // The allowed origin, the gateway's own origin, no origin (native clients) and a header token all get in.
        await using var allowed = await rig.ConnectAsync("p1", origin: "https://game.example");
        await allowed.ExpectAsync(Frames.Welcome);
        await using var own = await rig.ConnectAsync("p2", origin: $"http://127.0.0.1:{rig.Node.AppPort}");
        await own.ExpectAsync(Frames.Welcome);
        await using var native = await rig.ConnectAsync("p3");
        await native.ExpectAsync(Frames.Welcome);
        Assert.Equal(3, rig.Connections.Count);
    }

    [Fact]
    public async Task A_player_over_the_connection_cap_gets_429_and_a_freed_slot_is_reusable()
    {
        await using var rig = await GatewayRig.StartAsync(new Dictionary<string, string?> { ["Gateway:MaxConnectionsPerPlayer"] = "2" });

        var first = await rig.ConnectAsync("p1", "s1");
        await first.ExpectAsync(Frames.Welcome);
        await using var second = await rig.ConnectAsync("p1", "s2");
        await second.ExpectAsync(Frames.Welcome);

        Assert.Equal((HttpStatusCode)429, await TestSocket.RefusedStatusAsync(rig.SocketUri, "test:p1:s3"));
        // Another player is not affected by p1's cap.
        await using var other = await rig.ConnectAsync("p2");
        await other.ExpectAsync(Frames.Welcome);

        await first.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);
        await first.DisposeAsync();
        // The slot comes back once the server has finished with the socket; retrying the handshake is what a client does.
        TestSocket? third = null;
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (third is null && deadline.Elapsed < TestSocket.Timeout)
        {
            if (rig.Connections.ConnectionsOf("p1").Length < 2)
            {
                third = await rig.ConnectAsync("p1", "s3");
            }
            else
            {
                await Task.Yield();
            }
        }
        Assert.True(third is not null, "the closed socket's slot did not come back within the timeout");
        await using var _ = third;
        await third.ExpectAsync(Frames.Welcome);
    }
}
