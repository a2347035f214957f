using System.Text.Json;
using DaprGame.Contracts.Chat;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>Push fan-out: every watcher gets every event once, in offset order, whatever the broker does.</summary>
public sealed class PushTests
{
    [Fact]
    public async Task Events_reach_every_member_once_in_offset_order()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-lobby", members: ["p1", "p2"]);
        var (a, _) = await rig.ConnectStartedAsync("p1");
        var (b, _) = await rig.ConnectStartedAsync("p2");
        await using var _a = a;
        await using var _b = b;

        for (var i = 1; i <= 5; i++)
        {
            await rig.Chat.PublishMessageAsync("room-lobby", "p1", "m" + i);
        }
        foreach (var socket in new[] { a, b })
        {
            Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, await OffsetsAsync(socket, 5));
        }
        // Presence: each player went online once in the channel.
        await rig.Chat.WaitForPresenceAsync("room-lobby", "p1", online: true).WaitAsync(TestSocket.Timeout, TestContext.Current.CancellationToken);
        await rig.Chat.WaitForPresenceAsync("room-lobby", "p2", online: true).WaitAsync(TestSocket.Timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Duplicates_and_out_of_order_redeliveries_are_dropped_and_gaps_are_filled_from_history()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-lobby", members: ["p1"]);
        var (socket, _) = await rig.ConnectStartedAsync("p1");
        await using var _s = socket;

        var events = new List<ChatMessagePosted>();
        for (var i = 1; i <= 6; i++)
        {
            events.Add(rig.Chat.AppendSilently("room-lobby", "p2", "m" + i));
        }
        // The broker delivers 1, then 4 (2 and 3 late), then 1 again, 3, 2, 5 (all old by then), then 6.
        await rig.PublishAsync(events[0]);
        await rig.PublishAsync(events[3]);
        await rig.PublishAsync(events[0]);
        await rig.PublishAsync(events[2]);
        await rig.PublishAsync(events[1]);
        await rig.PublishAsync(events[4]);
        await rig.PublishAsync(events[5]);

        // 2..5 came from history when 4 skipped ahead; 6 live; nothing twice.
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, await OffsetsAsync(socket, 6));
        var reply = await socket.RequestAsync("ping", null);
        Assert.Equal(Frames.Ok, reply.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_message_posted_between_the_welcome_snapshot_and_the_watch_still_reaches_the_socket()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-lobby", members: ["p1"]);
        // Chat lists the channel at offset 0, then a message lands before the gateway watches it: its publication found
        // nobody watching on this replica and was dropped, so only history has it.
        rig.Chat.AfterMyChannels = _ => rig.Chat.AppendSilently("room-lobby", "p2", "while you were connecting");

        // Live from the welcome on (no resume asked): the client only listens.
        await using var socket = await rig.ConnectAsync("p1");
        var welcome = await socket.ExpectAsync(Frames.Welcome);

        Assert.Equal(0, welcome.GetProperty("data").GetProperty("channels")[0].GetProperty("offset").GetInt64());
        Assert.Equal(new long[] { 1 }, await OffsetsAsync(socket, 1));
        rig.Chat.AfterMyChannels = null;
        await rig.Chat.PublishMessageAsync("room-lobby", "p2", "and after");
        Assert.Equal(new long[] { 2 }, await OffsetsAsync(socket, 1));
    }

    [Fact]
    public async Task A_member_left_event_stops_delivery_to_that_player_after_reaching_it()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-lobby", members: ["p1", "p2"]);
        var (stays, _) = await rig.ConnectStartedAsync("p1");
        var (leaves, _) = await rig.ConnectStartedAsync("p2");
        await using var _a = stays;
        await using var _b = leaves;

        await rig.Chat.PublishMessageAsync("room-lobby", "p1", "before");
        await rig.Chat.RemoveMemberAsync("room-lobby", "p2", "kicked");
        await rig.Chat.PublishMessageAsync("room-lobby", "p1", "after");

        Assert.Equal(new long[] { 1, 2, 3 }, await OffsetsAsync(stays, 3));
        var received = await OffsetsAsync(leaves, 2);
        Assert.Equal(new long[] { 1, 2 }, received);
        // The next frame the kicked player gets is the reply to its ping, not offset 3: the feed stopped with the left event.
        var reply = await leaves.RequestAsync("ping", null);
        Assert.Equal(Frames.Ok, reply.GetProperty("type").GetString());
        await rig.Chat.WaitForPresenceAsync("room-lobby", "p2", online: false).WaitAsync(TestSocket.Timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_new_direct_channel_reaches_the_recipients_open_socket_and_join_watches_a_room()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-town");
        var (sender, _) = await rig.ConnectStartedAsync("alice");
        var (recipient, welcome) = await rig.ConnectStartedAsync("bob");
        await using var _a = sender;
        await using var _b = recipient;
        Assert.Equal(0, welcome.GetProperty("data").GetProperty("channels").GetArrayLength());

        // The sender is a party of the new channel too, so its own pushes may overtake the ack.
        var (ack, _) = await sender.RequestAmidPushesAsync("dm.send", new { playerId = "bob", clientMessageId = "d1", text = "hi bob" });
        Assert.Equal("dm-alice-bob", ack.GetProperty("data").GetProperty("channelId").GetString());

        // Bob was not a member when alice joined (offset 1): he gets his own join (2) and the message (3), once each.
        var frames = await FramesAsync(recipient, 2);
        Assert.Equal([ChatMemberJoined.EventType, ChatMessagePosted.EventType], frames.Select(f => f.GetProperty("type").GetString()));
        Assert.Equal(new long[] { 2, 3 }, frames.Select(f => f.GetProperty("data").GetProperty("offset").GetInt64()));
        Assert.Equal("hi bob", frames[1].GetProperty("data").GetProperty("text").GetString());

        // channel.join answers with the recent page and watches the room from there.
        // channel.join answers with the recent page and watches the room from there; the member-joined event (offset 1)
        // may overtake the reply, but it comes at most once.
        var (joined, pushes) = await recipient.RequestAmidPushesAsync("channel.join", new { channelId = "room-town" });
        Assert.Equal(1, joined.GetProperty("data").GetProperty("recent").GetProperty("latestOffset").GetInt64());
        var sent = await rig.Chat.PublishMessageAsync("room-town", "carol", "welcome");
        Assert.Equal(2, sent.Offset);
        // The member-joined event (offset 1) may come before or after the reply, at most once; then the message.
        var offsets = pushes.Select(f => f.GetProperty("data").GetProperty("offset").GetInt64()).ToList();
        while (offsets.Count == 0 || offsets[^1] < 2)
        {
            offsets.Add((await recipient.ReceiveAsync("the room message after joining")).GetProperty("data").GetProperty("offset").GetInt64());
        }
        Assert.True(offsets.SequenceEqual([2L]) || offsets.SequenceEqual([1L, 2L]), string.Join(",", offsets));
    }

    internal static async Task<List<JsonElement>> FramesAsync(TestSocket socket, int count)
    {
        var frames = new List<JsonElement>();
        while (frames.Count < count)
        {
            frames.Add(await socket.ReceiveAsync($"pushed event {frames.Count + 1} of {count}"));
        }
        return frames;
    }

    internal static async Task<long[]> OffsetsAsync(TestSocket socket, int count)
    {
        var frames = await FramesAsync(socket, count);
        return [.. frames.Select(f => f.GetProperty("data").GetProperty("offset").GetInt64())];
    }
}
