using DaprGame.Chat.Domain.Channels;
using DaprGame.Contracts.Chat;
using static DaprGame.Chat.Domain.Tests.ChannelKit;

namespace DaprGame.Chat.Domain.Tests;

/// <summary>Rooms, groups and direct channels: who joins, who leaves, and the events that says so.</summary>
public sealed class MembershipTests
{
    [Fact]
    public void Anyone_joins_a_room_once_and_leaving_publishes_left()
    {
        var channel = Room(Clock());

        var joined = channel.Join("alice").GetValueOrThrow();
        var again = channel.Join("alice").GetValueOrThrow();
        channel.Leave("alice").GetValueOrThrow();

        Assert.Equal(ChannelRole.Member, joined.Role);
        Assert.Equal(joined.Channel.Offset, again.Channel.Offset);
        var events = channel.TakeChanges().Appended;
        Assert.Collection(events,
            e => Assert.Equal("alice", Assert.IsType<ChatMemberJoined>(e).PlayerId),
            e => Assert.Equal("left", Assert.IsType<ChatMemberLeft>(e).Reason));
        Assert.Null(channel.RoleOf("alice"));
    }

    [Fact]
    public void Join_returns_the_latest_page_of_the_stream()
    {
        var channel = Room(Clock(), members: "alice");
        channel.Post("alice", "m", "hi").GetValueOrThrow();

        var result = channel.Join("bob").GetValueOrThrow();

        Assert.Equal([1L, 2, 3, 4], result.Recent.Events.Select(e => e.Offset));
        Assert.Equal(result.Channel.Offset, result.Recent.LatestOffset);
    }

    [Fact]
    public void A_group_is_joined_only_by_invitation_which_is_used_up()
    {
        var channel = Group(Clock(), members: "mod");
        channel.SetRole("owner", "mod", ChannelRole.Moderator).GetValueOrThrow();

        Refused(channel.Join("alice"), ChatErrorKind.Forbidden);
        channel.Invite("mod", "alice").GetValueOrThrow();
        var joined = channel.Join("alice").GetValueOrThrow();
        channel.Leave("alice").GetValueOrThrow();

        Assert.Equal(ChannelRole.Member, joined.Role);
        Assert.Equal("mod", channel.Window.OfType<ChatMemberJoined>().Last(j => j.PlayerId == "alice").InvitedBy);
        Refused(channel.Join("alice"), ChatErrorKind.Forbidden);
    }

    [Fact]
    public void Members_without_a_role_do_not_invite()
    {
        var channel = Group(Clock(), members: "alice");

        Refused(channel.Invite("alice", "bob"), ChatErrorKind.Forbidden);
        Refused(channel.Invite("stranger", "bob"), ChatErrorKind.NotMember);
        Refused(channel.Invite("owner", "alice"), ChatErrorKind.Conflict);
    }

    [Fact]
    public void A_direct_channel_has_exactly_its_two_players_and_is_created_by_the_first_message()
    {
        var channel = ChatChannel.New(ChannelIds.Direct("zed", "amy"), Settings(), Clock());

        var ack = channel.PostDirect("zed", "amy", "c1", "hi amy").GetValueOrThrow();

        Assert.Equal("dm-amy-zed", channel.Id);
        Assert.Equal(ChannelKind.Direct, channel.Kind);
        Assert.Equal(["amy", "zed"], channel.Members.Keys.Order());
        Assert.All(channel.Members.Values, r => Assert.Equal(ChannelRole.Member, r));
        Assert.Equal(3, ack.Offset);
        Refused(channel.Join("eve"), ChatErrorKind.Forbidden);
        Refused(channel.Leave("amy"), ChatErrorKind.Forbidden);
        Refused(channel.Post("eve", "c", "let me in"), ChatErrorKind.NotMember);
        Refused(channel.History("eve", null, null), ChatErrorKind.NotMember);
    }

    [Fact]
    public void A_refused_first_direct_message_creates_nothing()
    {
        var channel = ChatChannel.New(ChannelIds.Direct("amy", "zed"), Settings(), Clock());

        Refused(channel.PostDirect("amy", "zed", "c1", "   "), ChatErrorKind.Invalid);

        Assert.False(channel.Exists);
        Assert.True(channel.TakeChanges().IsEmpty);
    }

    [Fact]
    public void A_direct_channel_id_collision_never_admits_a_third_player()
    {
        // "a" + "b-c" and "a-b" + "c" both map to dm-a-b-c; the second pair must not enter the first pair's channel.
        var channel = ChatChannel.New(ChannelIds.Direct("a", "b-c"), Settings(), Clock());
        channel.PostDirect("a", "b-c", "1", "hi").GetValueOrThrow();

        Refused(channel.PostDirect("a-b", "c", "1", "hi"), ChatErrorKind.Conflict);
    }

    [Fact]
    public void The_owner_hands_over_ownership_before_leaving()
    {
        var channel = Group(Clock(), members: "alice");

        Refused(channel.Leave("owner"), ChatErrorKind.Conflict);
        channel.SetRole("owner", "alice", ChannelRole.Owner).GetValueOrThrow();
        channel.Leave("owner").GetValueOrThrow();

        Assert.Equal(ChannelRole.Owner, channel.RoleOf("alice"));
    }

    [Fact]
    public void Room_names_and_ids_are_checked()
    {
        Assert.True(ChannelIds.IsValidRoomName("trade-2"));
        Assert.False(ChannelIds.IsValidRoomName("Trade"));
        Assert.False(ChannelIds.IsValidRoomName(new string('a', 33)));
        Assert.Equal(ChannelKind.Room, ChannelIds.KindOf("room-lobby"));
        Assert.Equal(ChannelKind.Group, ChannelIds.KindOf(ChannelIds.NewGroup()));
        Assert.Null(ChannelIds.KindOf("room-"));
        Assert.Null(ChannelIds.KindOf("lobby"));
        Assert.Null(ChannelIds.KindOf("group-UPPER"));
        var channel = ChatChannel.New("room-other", Settings(), Clock());
        Refused(channel.Create(ChannelKind.Room, "test", "owner"), ChatErrorKind.Invalid);
        Refused(ChatChannel.New("group-x1", Settings(), Clock()).Create(ChannelKind.Room, "x1", "owner"), ChatErrorKind.Invalid);
    }

    [Fact]
    public void Creating_an_existing_channel_conflicts()
    {
        var channel = Room(Clock());

        Refused(channel.Create(ChannelKind.Room, "test", "someone"), ChatErrorKind.Conflict);
    }

    [Fact]
    public void Presence_is_for_members_and_expires_after_the_lease_unless_refreshed()
    {
        var clock = Clock();
        var channel = Room(clock, members: ["alice", "bob"]);

        channel.SetPresence("alice", true).GetValueOrThrow();
        channel.SetPresence("bob", true).GetValueOrThrow();
        Refused(channel.SetPresence("stranger", true), ChatErrorKind.NotMember);
        clock.Advance(TimeSpan.FromSeconds(60));
        channel.SetPresence("alice", true).GetValueOrThrow();
        clock.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(["alice"], channel.Presence().Online);
        channel.SetPresence("alice", false).GetValueOrThrow();
        Assert.Empty(channel.Presence().Online);
        Assert.Equal(3, channel.Presence().Members.Count);
    }

    [Fact]
    public void A_non_member_sees_a_room_without_presence_and_does_not_see_a_group()
    {
        var room = Room(Clock(), members: "alice");
        var group = Group(Clock(), members: "alice");
        group.Invite("owner", "invitee").GetValueOrThrow();

        var roomView = room.View("stranger").GetValueOrThrow();
        var memberView = room.View("alice").GetValueOrThrow();

        Assert.Null(roomView.Role);
        Assert.Null(roomView.Presence);
        Assert.Equal(ChannelRole.Member, memberView.Role);
        Assert.NotNull(memberView.Presence);
        Refused(group.View("stranger"), ChatErrorKind.NotMember);
        Assert.Null(group.View("invitee").GetValueOrThrow().Presence);
    }
}
