using System.Text.Json;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>Resume after a cut socket: exactly the missed events, in order, then live; lost history says so.</summary>
public sealed class ResumeTests
{
    [Fact]
    public async Task A_cut_socket_resumes_with_exactly_the_missed_events_then_live_ones()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-lobby", members: ["p1", "p2"]);
        // p2 stays connected throughout, so the channel's feed keeps running and live events are held during the catch-up.
        var (witness, _) = await rig.ConnectStartedAsync("p2");
        await using var _w = witness;
        var (first, welcome) = await rig.ConnectStartedAsync("p1");
        var token = welcome.GetProperty("data").GetProperty("resumeToken").GetString()!;

        for (var i = 1; i <= 3; i++)
        {
            await rig.Chat.PublishMessageAsync("room-lobby", "p2", "m" + i);
        }
        Assert.Equal(new long[] { 1, 2, 3 }, await PushTests.OffsetsAsync(first, 3));

        first.Socket.Abort();
        first.Socket.Dispose();
        await rig.Chat.WaitForPresenceAsync("room-lobby", "p1", online: false).WaitAsync(TestSocket.Timeout, TestContext.Current.CancellationToken);

        for (var i = 4; i <= 6; i++)
        {
            await rig.Chat.PublishMessageAsync("room-lobby", "p2", "m" + i);
        }
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, await PushTests.OffsetsAsync(witness, 6));

        await using var second = await rig.ConnectAsync("p1", "s1", resume: true);
        var secondWelcome = await second.ExpectAsync(Frames.Welcome);
        Assert.NotEqual(token, secondWelcome.GetProperty("data").GetProperty("resumeToken").GetString());
        // An event published between the welcome and the resume is held for this socket, not lost and not doubled.
        await rig.Chat.PublishMessageAsync("room-lobby", "p2", "m7");

        var (reply, pushes) = await second.RequestAmidPushesAsync("resume", new
        {
            resumeToken = token,
            positions = new Dictionary<string, object> { ["room-lobby"] = new { epoch = 1, offset = 3 } },
        });
        Assert.Equal(Frames.Ok, reply.GetProperty("type").GetString());
        Assert.Equal("resumed", reply.GetProperty("data").GetProperty("channels").GetProperty("room-lobby").GetString());
        await rig.Chat.PublishMessageAsync("room-lobby", "p2", "m8");

        var offsets = pushes.Select(Offset).ToList();
        while (offsets.Count == 0 || offsets[^1] < 8)
        {
            offsets.Add(Offset(await second.ReceiveAsync("events up to offset 8 after the resume")));
        }
        Assert.Equal(new long[] { 4, 5, 6, 7, 8 }, offsets);

        // A token is good once.
        await using var third = await rig.ConnectAsync("p1", "s1", resume: true);
        await third.ExpectAsync(Frames.Welcome);
        var cid = await third.SendRequestAsync("resume", new { resumeToken = token });
        await third.ExpectErrorAsync(GatewayErrorCodes.ResumeExpired, cid);
    }

    [Fact]
    public async Task Resuming_past_the_history_window_or_in_another_epoch_gets_history_truncated()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-old", members: ["p1"]);
        rig.Chat.AddChannel("room-new", members: ["p1"]);
        for (var i = 1; i <= 10; i++)
        {
            rig.Chat.AppendSilently("room-old", "p2", "m" + i);
            rig.Chat.AppendSilently("room-new", "p2", "m" + i);
        }
        rig.Chat.Trim("room-old", firstAvailableOffset: 6);
        var (first, welcome) = await rig.ConnectStartedAsync("p1");
        var token = welcome.GetProperty("data").GetProperty("resumeToken").GetString()!;
        first.Socket.Abort();
        first.Socket.Dispose();

        await using var second = await rig.ConnectAsync("p1", resume: true);
        await second.ExpectAsync(Frames.Welcome);
        var (reply, pushes) = await second.RequestAmidPushesAsync("resume", new
        {
            resumeToken = token,
            positions = new Dictionary<string, object>
            {
                ["room-old"] = new { epoch = 1, offset = 2 },
                ["room-new"] = new { epoch = 7, offset = 2 },
            },
        });
        var channels = reply.GetProperty("data").GetProperty("channels");
        Assert.Equal("truncated", channels.GetProperty("room-old").GetString());
        Assert.Equal("truncated", channels.GetProperty("room-new").GetString());
        var truncated = pushes.Where(f => f.GetProperty("type").GetString() == Frames.HistoryTruncated).Select(f => f.GetProperty("data")).ToList();
        Assert.Equal(2, truncated.Count);
        var old = Assert.Single(truncated, t => t.GetProperty("channelId").GetString() == "room-old");
        Assert.Equal(6, old.GetProperty("firstAvailableOffset").GetInt64());
        Assert.DoesNotContain(pushes, f => f.GetProperty("type").GetString()!.StartsWith("chat.", StringComparison.Ordinal));

        // Live delivery continues after the truncation notice.
        await rig.Chat.PublishMessageAsync("room-old", "p2", "m11");
        Assert.Equal(11, Offset(await second.ReceiveAsync("the live event after truncation")));
    }

    [Fact]
    public async Task An_unknown_token_or_another_players_token_is_resume_expired_and_the_socket_goes_live()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-lobby", members: ["p1", "p2"]);
        var (other, otherWelcome) = await rig.ConnectStartedAsync("p2");
        await using var _o = other;
        var othersToken = otherWelcome.GetProperty("data").GetProperty("resumeToken").GetString()!;

        await using var socket = await rig.ConnectAsync("p1", resume: true);
        await socket.ExpectAsync(Frames.Welcome);
        var cid = await socket.SendRequestAsync("resume", new { resumeToken = othersToken });
        await socket.ExpectErrorAsync(GatewayErrorCodes.ResumeExpired, cid);
        cid = await socket.SendRequestAsync("resume", new { resumeToken = "no-such-token" });
        await socket.ExpectErrorAsync(GatewayErrorCodes.Invalid, cid);

        await rig.Chat.PublishMessageAsync("room-lobby", "p2", "live");
        Assert.Equal(1, Offset(await socket.ReceiveAsync("the live event")));
    }

    private static long Offset(JsonElement frame) => frame.GetProperty("data").GetProperty("offset").GetInt64();
}
