using System.Net;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Tests;

/// <summary>Posting, deduplication, history and the published stream, through the real app and sidecar.</summary>
public sealed class MessagingTests
{
    [Fact]
    public async Task Post_dedup_and_history_in_a_default_room()
    {
        await using var rig = await ChatRig.StartAsync();

        var join = await rig.JoinAsync("room-lobby", "alice");
        var first = await rig.PostAsync("room-lobby", "alice", "c-1", "  hello  ");
        var resend = await rig.PostAsync("room-lobby", "alice", "c-1", "hello");
        var second = await rig.PostAsync("room-lobby", "alice", "c-2", "again");
        var page = await rig.HistoryAsync("room-lobby", "alice", after: 0);

        Assert.Equal(ChatRig.Start.ToUnixTimeMilliseconds(), join.Channel.Epoch);
        Assert.Equal(ChannelRole.Member, join.Role);
        Assert.Equal((join.Channel.Offset + 1, false), (first.Offset, first.Duplicate));
        Assert.Equal(first with { Duplicate = true }, resend);
        Assert.Equal(first.Offset + 1, second.Offset);
        Assert.Equal([join.Channel.Offset, first.Offset, second.Offset], page.Events.Select(e => e.Offset));
        var posted = Assert.IsType<ChatMessagePosted>(page.Events[1]);
        Assert.Equal(("alice", "c-1", "hello"), (posted.SenderId, posted.ClientMessageId, posted.Text));
        Assert.False(page.Truncated);
        Assert.Equal(second.Offset, page.LatestOffset);
    }

    [Fact]
    public async Task Every_new_event_is_published_once_in_order_as_a_typed_cloud_event()
    {
        await using var rig = await ChatRig.StartAsync();

        var join = await rig.JoinAsync("room-trade", "alice");
        var ack = await rig.PostAsync("room-trade", "alice", "c-1", "wts sword");
        await rig.PostAsync("room-trade", "alice", "c-1", "wts sword");
        var edit = await rig.OkAsync<MessageAck>(HttpMethod.Put, ChatRoutes.Message("room-trade", ack.Offset), "alice", new EditMessage("wts shield"));

        var events = await rig.ChatEventsThroughAsync("room-trade", edit.Offset);

        Assert.Equal([join.Channel.Offset, ack.Offset, edit.Offset], events.Select(e => e["data"]!["offset"]!.GetValue<long>()));
        Assert.Equal([ChatMemberJoined.EventType, ChatMessagePosted.EventType, ChatMessageEdited.EventType], events.Select(e => e["type"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal(e["type"]!.GetValue<string>(), e["data"]!["type"]!.GetValue<string>()));
        Assert.Equal($"room-trade:{ack.Epoch}:{ack.Offset}", events[1]["id"]!.GetValue<string>());
        Assert.Equal(events[1]["id"]!.GetValue<string>(), events[1]["data"]!["id"]!.GetValue<string>());
        Assert.Equal("wts sword", events[1]["data"]!["text"]!.GetValue<string>());
        // The resend published nothing: the next event after the post is the edit.
        Assert.Equal(ack.Offset + 1, edit.Offset);
    }

    [Fact]
    public async Task History_beyond_the_window_is_truncated_and_says_where_it_starts()
    {
        await using var rig = await ChatRig.StartAsync(new() { ["Chat:HistoryWindow"] = "5", ["Chat:RateLimit:Burst"] = "100" });
        await rig.JoinAsync("room-help", "alice");
        MessageAck last = null!;
        for (var i = 0; i < 8; i++)
        {
            last = await rig.PostAsync("room-help", "alice", $"c{i}", $"message {i}");
        }

        var stale = await rig.HistoryAsync("room-help", "alice", after: 1, limit: 3);
        var latest = await rig.HistoryAsync("room-help", "alice");

        Assert.True(stale.Truncated);
        Assert.Equal(last.Offset - 4, stale.FirstAvailableOffset);
        Assert.Equal([last.Offset - 4, last.Offset - 3, last.Offset - 2], stale.Events.Select(e => e.Offset));
        Assert.Equal(5, latest.Events.Count);
        Assert.Equal(last.Offset, latest.Events[^1].Offset);
    }

    [Fact]
    public async Task Requests_without_a_valid_player_or_with_bad_input_are_refused_before_any_actor()
    {
        await using var rig = await ChatRig.StartAsync();

        await rig.ProblemAsync(HttpMethod.Get, ChatRoutes.Channels, null, null, HttpStatusCode.Unauthorized, ChatErrorCodes.Invalid);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Join("room-lobby"), "bad id!", null, HttpStatusCode.Unauthorized, ChatErrorCodes.Invalid);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Join("lobby"), "alice", null, HttpStatusCode.NotFound, ChatErrorCodes.NotFound);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Join("room-nowhere"), "alice", null, HttpStatusCode.NotFound, ChatErrorCodes.NotFound);
        await rig.JoinAsync("room-lobby", "alice");
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Messages("room-lobby"), "alice", new StringContent("{not json"), HttpStatusCode.BadRequest, ChatErrorCodes.Invalid);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Messages("room-lobby"), "alice", new PostMessage("c", "   "), HttpStatusCode.BadRequest, ChatErrorCodes.Invalid);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Messages("room-lobby"), "alice", new PostMessage("c", new string('x', 2001)), HttpStatusCode.BadRequest, ChatErrorCodes.Invalid);
        await rig.ProblemAsync(HttpMethod.Get, ChatRoutes.Messages("room-lobby") + "?limit=500", "alice", null, HttpStatusCode.BadRequest, ChatErrorCodes.Invalid);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Channels, "alice", new CreateChannel(ChannelKind.Room, "Bad Name"), HttpStatusCode.BadRequest, ChatErrorCodes.Invalid);

        var page = await rig.HistoryAsync("room-lobby", "alice", after: 0);
        Assert.All(page.Events, e => Assert.IsType<ChatMemberJoined>(e));
    }

    [Fact]
    public async Task Rooms_are_listed_with_member_counts_and_each_player_lists_their_channels()
    {
        await using var rig = await ChatRig.StartAsync();
        var created = await rig.OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Channels, "alice", new CreateChannel(ChannelKind.Room, "pvp"));
        await rig.JoinAsync("room-pvp", "bob");
        await rig.JoinAsync("room-lobby", "bob");
        var group = await rig.GroupAsync("alice", "bob");
        await rig.PostAsync(group, "bob", "c", "hi");
        await rig.OkAsync<MessageAck>(HttpMethod.Post, ChatRoutes.Direct("carol"), "bob", new PostMessage("d1", "hey carol"));

        var rooms = await rig.OkAsync<List<ChannelInfo>>(HttpMethod.Get, ChatRoutes.Channels, "zed");
        var bobs = await rig.OkAsync<List<ChannelInfo>>(HttpMethod.Get, ChatRoutes.MyChannels, "bob");
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Channels, "zed", new CreateChannel(ChannelKind.Room, "pvp"), HttpStatusCode.Conflict, ChatErrorCodes.Conflict);

        Assert.Equal("room-pvp", created.ChannelId);
        Assert.Equal(["room-help", "room-lobby", "room-pvp", "room-trade"], rooms.Select(r => r.ChannelId));
        Assert.Equal(2, rooms.Single(r => r.ChannelId == "room-pvp").MemberCount);
        Assert.Equal(1, rooms.Single(r => r.ChannelId == "room-lobby").MemberCount);
        Assert.Equal(new[] { "dm-bob-carol", group, "room-lobby", "room-pvp" }.Order(StringComparer.Ordinal), bobs.Select(c => c.ChannelId));
        Assert.Equal(3, bobs.Single(c => c.ChannelId == group).Offset);
    }
}
