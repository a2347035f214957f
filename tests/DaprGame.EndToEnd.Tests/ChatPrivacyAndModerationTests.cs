using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using DaprGame.Contracts;
using DaprGame.Testing;

namespace DaprGame.EndToEnd.Tests;

/// <summary>One chat cluster (two gateways, chat, sidecars, local profile) shared by the tests of a class.</summary>
public sealed class LocalChatClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    public Uri[] Gateways { get; private set; } = [];

    public HttpClient Http { get; } = new();

    public async ValueTask InitializeAsync()
    {
        Cluster = await ChatCluster.StartAsync(ClusterProfile.Local);
        Gateways = [.. Cluster.Nodes(AppIds.Gateway).Select(n => n.AppAddress)];
    }

    /// <summary>A guest player connected to gateway <paramref name="gateway"/> (0 or 1).</summary>
    public async Task<PlayerClient> PlayerAsync(string name, int gateway, CancellationToken ct)
    {
        var client = await PlayerClient.GuestAsync(Http, Gateways[gateway], $"{name}-{Guid.NewGuid():N}"[..24], ct);
        await client.ConnectAsync(Gateways[gateway], ct);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Cluster.DisposeAsync();
    }
}

/// <summary>
/// Privacy and moderation through the whole path: players on two gateway replicas, the chat service's rules, and what
/// reaches (or never reaches) each socket.
/// </summary>
public sealed class ChatPrivacyAndModerationTests(LocalChatClusterFixture fixture) : IClassFixture<LocalChatClusterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_group_is_closed_to_players_never_invited_and_open_to_invited_ones()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var owner = await fixture.PlayerAsync("owner", 0, ct);
        await using var invited = await fixture.PlayerAsync("invited", 1, ct);
        await using var outsider = await fixture.PlayerAsync("outsider", 1, ct);

        var group = (await owner.RequestAsync("channel.create", new { kind = "group", name = "raid" }, ct)).GetProperty("channelId").GetString()!;
        var first = await owner.RequestAsync("message.send", new { channelId = group, clientMessageId = "g1", text = "secret plan" }, ct);

        Assert.Equal("not_member", (await Assert.ThrowsAsync<GatewayErrorException>(() =>
            outsider.RequestAsync("channel.history", new { channelId = group, after = 0, limit = 50 }, ct))).Code);
        Assert.Equal("not_member", (await Assert.ThrowsAsync<GatewayErrorException>(() =>
            outsider.RequestAsync("message.send", new { channelId = group, clientMessageId = "x1", text = "let me in" }, ct))).Code);
        Assert.Equal("forbidden", (await Assert.ThrowsAsync<GatewayErrorException>(() => outsider.JoinAsync(group, ct))).Code);

        await owner.RequestAsync("member.invite", new { channelId = group, playerId = invited.PlayerId }, ct);
        var joined = await invited.JoinAsync(group, ct);
        Assert.Contains(joined.GetProperty("recent").GetProperty("events").EnumerateArray(), e => e.TryGetProperty("text", out var t) && t.GetString() == "secret plan");
        var second = await owner.RequestAsync("message.send", new { channelId = group, clientMessageId = "g2", text = "go at dawn" }, ct);
        await invited.WaitForOffsetAsync(group, second.GetProperty("offset").GetInt64(), Wait, ct);

        // The outsider's socket never carried a byte of the group, on either gateway.
        Assert.Empty(outsider.Events(group));
        Assert.True(first.GetProperty("offset").GetInt64() < second.GetProperty("offset").GetInt64());
    }

    [Fact]
    public async Task A_direct_message_reaches_the_recipients_open_socket_and_nobody_else_can_read_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var alice = await fixture.PlayerAsync("alice", 0, ct);
        await using var bob = await fixture.PlayerAsync("bob", 1, ct);
        await using var eve = await fixture.PlayerAsync("eve", 1, ct);

        var ack = await alice.RequestAsync("dm.send", new { playerId = bob.PlayerId, clientMessageId = "d1", text = "hi bob" }, ct);
        var dm = ack.GetProperty("channelId").GetString()!;

        await bob.WaitForOffsetAsync(dm, ack.GetProperty("offset").GetInt64(), Wait, ct);
        Assert.Contains(bob.Events(dm), e => e.Type == "chat.message.posted.v1" && e.Data.GetProperty("text").GetString() == "hi bob");
        Assert.Equal("not_member", (await Assert.ThrowsAsync<GatewayErrorException>(() =>
            eve.RequestAsync("channel.history", new { channelId = dm, after = 0, limit = 50 }, ct))).Code);
        Assert.Equal("forbidden", (await Assert.ThrowsAsync<GatewayErrorException>(() => eve.JoinAsync(dm, ct))).Code);
        Assert.Empty(eve.Events(dm));
    }

    [Fact]
    public async Task Moderation_takes_effect_and_members_on_both_gateways_see_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var owner = await fixture.PlayerAsync("mod", 0, ct);
        await using var troll = await fixture.PlayerAsync("troll", 1, ct);
        await using var bystander = await fixture.PlayerAsync("bystander", 1, ct);

        var room = (await owner.RequestAsync("channel.create", new { kind = "room", name = $"mod-{Guid.NewGuid():N}"[..20] }, ct)).GetProperty("channelId").GetString()!;
        await troll.JoinAsync(room, ct);
        await bystander.JoinAsync(room, ct);

        var bad = await troll.RequestAsync("message.send", new { channelId = room, clientMessageId = "t1", text = "spam spam" }, ct);
        var badOffset = bad.GetProperty("offset").GetInt64();
        await owner.RequestAsync("message.delete", new { channelId = room, offset = badOffset }, ct);
        await owner.RequestAsync("mod.mute", new { channelId = room, playerId = troll.PlayerId }, ct);
        Assert.Equal("muted", (await Assert.ThrowsAsync<GatewayErrorException>(() =>
            troll.RequestAsync("message.send", new { channelId = room, clientMessageId = "t2", text = "still here" }, ct))).Code);

        await owner.RequestAsync("mod.ban", new { channelId = room, playerId = troll.PlayerId }, ct);
        var after = await owner.RequestAsync("message.send", new { channelId = room, clientMessageId = "o1", text = "back to normal" }, ct);
        var last = after.GetProperty("offset").GetInt64();
        await bystander.WaitForOffsetAsync(room, last, Wait, ct);

        var seen = bystander.Events(room);
        Assert.Contains(seen, e => e.Type == "chat.message.deleted.v1" && e.Data.GetProperty("targetOffset").GetInt64() == badOffset);
        Assert.Contains(seen, e => e.Type == "chat.member.left.v1" && e.Data.GetProperty("playerId").GetString() == troll.PlayerId
                                   && e.Data.GetProperty("reason").GetString() == "banned");
        // The banned player saw its own removal and nothing after it; it cannot come back.
        var trollSaw = troll.Events(room);
        Assert.DoesNotContain(trollSaw, e => e.Offset == last);
        Assert.Equal("banned", (await Assert.ThrowsAsync<GatewayErrorException>(() => troll.JoinAsync(room, ct))).Code);
        var history = await bystander.RequestAsync("channel.history", new { channelId = room, after = 0, limit = 200 }, ct);
        Assert.DoesNotContain(history.GetProperty("events").EnumerateArray(), e => e.TryGetProperty("text", out var t) && t.GetString() == "spam spam");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_member_who_reconnects_without_resuming_gets_the_channels_live_messages_again(bool joinsAgain)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await fixture.PlayerAsync("host", 1, ct);
        await using var member = await fixture.PlayerAsync("member", 0, ct);
        var room = (await host.RequestAsync("channel.create", new { kind = "room", name = $"reload-{Guid.NewGuid():N}"[..20] }, ct)).GetProperty("channelId").GetString()!;
        await member.JoinAsync(room, ct);
        var before = await host.RequestAsync("message.send", new { channelId = room, clientMessageId = "r1", text = "before the reload" }, ct);
        await member.WaitForOffsetAsync(room, before.GetProperty("offset").GetInt64(), Wait, ct);

        // A page reload: the socket closes and a new one opens for the same session, without asking to resume.
        await member.CloseAsync(ct);
        await member.ConnectAsync(fixture.Gateways[0], ct);
        Assert.Contains(member.LastWelcome!.Value.GetProperty("channels").EnumerateArray(), c => c.GetProperty("channelId").GetString() == room);
        if (joinsAgain)
        {
            await member.JoinAsync(room, ct);
        }

        var fromHost = await host.RequestAsync("message.send", new { channelId = room, clientMessageId = "r2", text = "after the reload" }, ct);
        await member.WaitForOffsetAsync(room, fromHost.GetProperty("offset").GetInt64(), Wait, ct);
        var own = await member.RequestAsync("message.send", new { channelId = room, clientMessageId = "r3", text = "me too" }, ct);
        await member.WaitForOffsetAsync(room, own.GetProperty("offset").GetInt64(), Wait, ct);
    }

    [Fact]
    public async Task Logging_out_on_one_gateway_closes_the_sessions_socket_on_the_other()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var player = await fixture.PlayerAsync("leaver", 1, ct);

        using var logout = new HttpRequestMessage(HttpMethod.Post, new Uri(fixture.Gateways[0], "/v1/auth/logout"));
        logout.Headers.Authorization = new AuthenticationHeaderValue("Bearer", player.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Http.SendAsync(logout, ct)).StatusCode);

        var status = await player.Closed.Task.WaitAsync(Wait, ct);
        Assert.Equal((WebSocketCloseStatus)4001, status);
        // And the token no longer opens a socket anywhere.
        await Assert.ThrowsAnyAsync<WebSocketException>(() => player.ConnectAsync(fixture.Gateways[0], ct));
    }
}
