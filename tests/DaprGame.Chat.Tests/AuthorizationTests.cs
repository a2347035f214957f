using System.Net;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Tests;

/// <summary>Who may read, write and join, over HTTP: nobody reads a channel they never joined.</summary>
public sealed class AuthorizationTests
{
    [Fact]
    public async Task Only_a_trusted_caller_app_may_speak_for_a_player()
    {
        await using var rig = await ChatRig.StartAsync();
        var dm = (await rig.OkAsync<MessageAck>(HttpMethod.Post, ChatRoutes.Direct("bob"), "alice", new PostMessage("d1", "hi bob"))).ChannelId;

        // Another service in the mesh (here "trading") sets the player header too: chat refuses to believe it.
        Assert.Equal(HttpStatusCode.Forbidden, await rig.StatusAsCallerAsync("trading", ChatRoutes.Messages(dm), "alice"));
        Assert.Equal(HttpStatusCode.OK, await rig.StatusAsCallerAsync("observer", ChatRoutes.Messages(dm), "alice"));
    }

    [Fact]
    public async Task Outsiders_of_a_group_and_a_direct_channel_get_not_member_on_read_and_post_and_cannot_join()
    {
        await using var rig = await ChatRig.StartAsync();
        var group = await rig.GroupAsync("owner", "alice");
        var dm = (await rig.OkAsync<MessageAck>(HttpMethod.Post, ChatRoutes.Direct("bob"), "alice", new PostMessage("d1", "hi bob"))).ChannelId;

        foreach (var channel in new[] { group, dm })
        {
            await rig.ProblemAsync(HttpMethod.Get, ChatRoutes.Messages(channel), "eve", null, HttpStatusCode.Forbidden, ChatErrorCodes.NotMember);
            await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Messages(channel), "eve", new PostMessage("e1", "let me in"), HttpStatusCode.Forbidden, ChatErrorCodes.NotMember);
            await rig.ProblemAsync(HttpMethod.Get, ChatRoutes.Channel(channel), "eve", null, HttpStatusCode.Forbidden, ChatErrorCodes.NotMember);
            await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Join(channel), "eve", null, HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);
            await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Reports(channel), "eve", new Report(1, "spam"), HttpStatusCode.Forbidden, ChatErrorCodes.NotMember);
        }
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Invite(dm), "alice", new MemberAction("eve"), HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Invite(group), "alice", new MemberAction("eve"), HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);

        Assert.Equal("dm-alice-bob", dm);
        var bobsView = await rig.OkAsync<ChannelView>(HttpMethod.Get, ChatRoutes.Channel(dm), "bob");
        Assert.Equal((ChannelKind.Direct, 2), (bobsView.Channel.Kind, bobsView.Channel.MemberCount));
        var bobsPage = await rig.HistoryAsync(dm, "bob");
        Assert.Equal("hi bob", bobsPage.Events.OfType<ChatMessagePosted>().Single().Text);
        Assert.Equal(2, (await rig.HistoryAsync(group, "alice")).Events.Count);
    }

    [Fact]
    public async Task An_invitation_lets_a_player_into_a_group_and_a_room_is_visible_but_not_readable_before_joining()
    {
        await using var rig = await ChatRig.StartAsync();
        var group = await rig.GroupAsync("owner");

        await rig.OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Invite(group), "owner", new MemberAction("carol"));
        var invitedView = await rig.OkAsync<ChannelView>(HttpMethod.Get, ChatRoutes.Channel(group), "carol");
        var joined = await rig.JoinAsync(group, "carol");
        var roomView = await rig.OkAsync<ChannelView>(HttpMethod.Get, ChatRoutes.Channel("room-lobby"), "dave");

        Assert.Null(invitedView.Role);
        Assert.Null(invitedView.Presence);
        Assert.Equal(ChannelRole.Member, joined.Role);
        Assert.Equal("owner", joined.Recent.Events.OfType<ChatMemberJoined>().Single(j => j.PlayerId == "carol").InvitedBy);
        Assert.Null(roomView.Presence);
        await rig.ProblemAsync(HttpMethod.Get, ChatRoutes.Messages("room-lobby"), "dave", null, HttpStatusCode.Forbidden, ChatErrorCodes.NotMember);
    }

    [Fact]
    public async Task Presence_lists_online_members_until_their_lease_runs_out()
    {
        await using var rig = await ChatRig.StartAsync(new() { ["Chat:PresenceLease"] = "00:00:30" });
        await rig.JoinAsync("room-lobby", "alice");
        await rig.JoinAsync("room-lobby", "bob");

        var (status, _) = await rig.SendAsync(HttpMethod.Post, ChatRoutes.Presence("room-lobby"), "alice", new PresenceUpdate("alice", true));
        await rig.SendAsync(HttpMethod.Post, ChatRoutes.Presence("room-lobby"), "bob", new PresenceUpdate("bob", true));
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Presence("room-lobby"), "eve", new PresenceUpdate("eve", true), HttpStatusCode.Forbidden, ChatErrorCodes.NotMember);
        rig.Clock.Advance(TimeSpan.FromSeconds(20));
        await rig.SendAsync(HttpMethod.Post, ChatRoutes.Presence("room-lobby"), "bob", new PresenceUpdate("bob", true));
        var both = await rig.OkAsync<ChannelView>(HttpMethod.Get, ChatRoutes.Channel("room-lobby"), "alice");
        rig.Clock.Advance(TimeSpan.FromSeconds(15));
        var onlyBob = await rig.OkAsync<ChannelView>(HttpMethod.Get, ChatRoutes.Channel("room-lobby"), "alice");

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal(["alice", "bob"], both.Presence!.Online);
        Assert.Equal(["bob"], onlyBob.Presence!.Online);
        Assert.Equal(["alice", "bob"], onlyBob.Presence.Members.Select(m => m.PlayerId));
    }
}
