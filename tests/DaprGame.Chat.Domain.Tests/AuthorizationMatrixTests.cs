using DaprGame.Chat.Domain.Channels;
using DaprGame.Contracts.Chat;
using static DaprGame.Chat.Domain.Tests.ChannelKit;

namespace DaprGame.Chat.Domain.Tests;

/// <summary>
/// Nobody reads or writes a channel they never joined: every command, by an outsider, in every kind of channel, is
/// refused with the expected error and changes nothing.
/// </summary>
public sealed class AuthorizationMatrixTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[] { "room", "group", "direct" })
        {
            foreach (var op in Operations.Keys)
            {
                data.Add(kind, op);
            }
        }
        return data;
    }

    private static readonly Dictionary<string, Func<ChatChannel, long, object>> Operations = new()
    {
        ["history"] = (c, _) => c.History("outsider", null, null),
        ["post"] = (c, _) => c.Post("outsider", "x", "hello"),
        ["edit"] = (c, o) => c.Edit("outsider", o, "hello"),
        ["delete"] = (c, o) => c.Delete("outsider", o),
        ["leave"] = (c, _) => c.Leave("outsider"),
        ["report"] = (c, o) => c.Report("outsider", o, "spam"),
        ["reports"] = (c, _) => c.ListReports("outsider"),
        ["invite"] = (c, _) => c.Invite("outsider", "friend"),
        ["kick"] = (c, _) => c.Kick("outsider", "alice"),
        ["role"] = (c, _) => c.SetRole("outsider", "alice", ChannelRole.Moderator),
        ["mute"] = (c, _) => c.Mute("outsider", "alice", null, null),
        ["ban"] = (c, _) => c.Ban("outsider", "alice", null, null),
        ["unmute"] = (c, _) => c.Unmute("outsider", "alice"),
        ["purge"] = (c, _) => c.Purge("outsider", "alice"),
        ["presence"] = (c, _) => c.SetPresence("outsider", true),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_outsider_is_refused_as_not_member_and_nothing_changes(string kind, string operation)
    {
        var clock = Clock();
        ChatChannel channel;
        long offset;
        switch (kind)
        {
            case "room":
                channel = Room(clock, members: "alice");
                break;
            case "group":
                channel = Group(clock, members: "alice");
                break;
            default:
                channel = ChatChannel.New(ChannelIds.Direct("alice", "owner"), Settings(), clock);
                channel.PostDirect("owner", "alice", "0", "first").GetValueOrThrow();
                break;
        }
        offset = channel.Post("alice", "m", "a message").GetValueOrThrow().Offset;
        channel.TakeChanges();
        var before = Fingerprint(channel);

        dynamic outcome = Operations[operation](channel, offset);

        Assert.False((bool)outcome.IsSuccess, $"{operation} by an outsider in a {kind} succeeded");
        Assert.Equal(ChatErrorKind.NotMember, (ChatErrorKind)outcome.Error.Kind);
        Assert.Equal(before, Fingerprint(channel));
        Assert.True(channel.TakeChanges().IsEmpty);
    }

    [Fact]
    public void Only_invited_players_join_a_group_nobody_joins_a_direct_channel_and_banned_players_join_nothing()
    {
        var group = Group(Clock(), members: "alice");
        var direct = ChatChannel.New(ChannelIds.Direct("alice", "bob"), Settings(), Clock());
        direct.PostDirect("alice", "bob", "1", "hi").GetValueOrThrow();
        var room = Room(Clock(), members: "alice");
        room.Ban("owner", "eve", null, null).GetValueOrThrow();

        Refused(group.Join("outsider"), ChatErrorKind.Forbidden);
        Refused(direct.Join("outsider"), ChatErrorKind.Forbidden);
        Refused(room.Join("eve"), ChatErrorKind.Banned);
        room.Join("outsider").GetValueOrThrow();
    }
}
