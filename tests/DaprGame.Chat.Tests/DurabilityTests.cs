using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Tests;

/// <summary>State survives deactivation and restarts; the outbox republishes what the broker refused.</summary>
public sealed class DurabilityTests
{
    [Fact]
    public async Task After_a_restart_offsets_continue_the_epoch_is_unchanged_and_dedup_still_holds()
    {
        await using var rig = await ChatRig.StartAsync();
        var group = await rig.GroupAsync("owner", "alice");
        await rig.OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Mute(group), "owner", new Sanction("alice", null, null));
        await rig.OkAsync<ChannelInfo>(HttpMethod.Delete, ChatRoutes.Mute(group) + "/alice", "owner");
        var before = await rig.PostAsync(group, "alice", "c-1", "before the restart");

        await rig.RestartChatAsync();
        rig.Clock.Advance(TimeSpan.FromHours(1));

        var resend = await rig.PostAsync(group, "alice", "c-1", "before the restart");
        var after = await rig.PostAsync(group, "alice", "c-2", "after the restart");
        var page = await rig.HistoryAsync(group, "owner", after: 0);
        var view = await rig.OkAsync<ChannelView>(HttpMethod.Get, ChatRoutes.Channel(group), "owner");
        var mine = await rig.OkAsync<List<ChannelInfo>>(HttpMethod.Get, ChatRoutes.MyChannels, "alice");

        Assert.True(resend.Duplicate);
        Assert.Equal(before.Offset, resend.Offset);
        Assert.Equal((before.Epoch, before.Offset + 1), (after.Epoch, after.Offset));
        Assert.Equal(Enumerable.Range(1, (int)after.Offset).Select(i => (long)i), page.Events.Select(e => e.Offset));
        Assert.Equal([("alice", ChannelRole.Member), ("owner", ChannelRole.Owner)], view.Presence!.Members.Select(m => (m.PlayerId, m.Role)));
        Assert.Equal([group], mine.Select(c => c.ChannelId));
    }

    [Fact]
    public async Task Events_the_broker_refused_are_republished_in_order_with_the_same_ids()
    {
        await using var rig = await ChatRig.StartAsync();
        var join = await rig.JoinAsync("room-lobby", "alice");
        await rig.ChatEventsThroughAsync("room-lobby", join.Channel.Offset);

        rig.Publishing.Failing = true;
        var lost = await rig.PostAsync("room-lobby", "alice", "c-1", "while the broker is down");
        Assert.True(rig.Publishing.Failures > 0, "the switch should have refused the publish");
        Assert.False(rig.TryTakeChatEvent(out _), "nothing may be published while the broker refuses");
        rig.Publishing.Failing = false;

        // The actor's retry timer republishes without any new command arriving.
        var republished = await rig.ChatEventsThroughAsync("room-lobby", lost.Offset);
        var next = await rig.PostAsync("room-lobby", "alice", "c-2", "broker is back");
        var after = await rig.ChatEventsThroughAsync("room-lobby", next.Offset);

        var only = Assert.Single(republished);
        Assert.Equal($"room-lobby:{lost.Epoch}:{lost.Offset}", only["id"]!.GetValue<string>());
        Assert.Equal("while the broker is down", only["data"]!["text"]!.GetValue<string>());
        Assert.Equal([next.Offset], after.Select(e => e["data"]!["offset"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Events_left_unpublished_at_a_restart_are_published_on_activation()
    {
        await using var rig = await ChatRig.StartAsync();
        await rig.JoinAsync("room-help", "alice");
        rig.Publishing.Failing = true;
        var lost = await rig.PostAsync("room-help", "alice", "c-1", "stored, not yet published");

        await rig.RestartChatAsync();
        rig.Publishing.Failing = false;
        // Any call activates the channel again; activation drains the outbox before the command runs.
        var page = await rig.HistoryAsync("room-help", "alice", after: lost.Offset - 1);
        var events = await rig.ChatEventsThroughAsync("room-help", lost.Offset);

        Assert.Equal(lost.Offset, page.Events.Single().Offset);
        Assert.Equal(lost.Offset, events[^1]["data"]!["offset"]!.GetValue<long>());
        Assert.Equal(ChatMessagePosted.EventType, events[^1]["type"]!.GetValue<string>());
    }
}
