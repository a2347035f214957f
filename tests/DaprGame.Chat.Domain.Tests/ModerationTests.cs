using DaprGame.Chat.Domain.Channels;
using DaprGame.Chat.Domain.Moderation;
using DaprGame.Contracts.Chat;
using static DaprGame.Chat.Domain.Tests.ChannelKit;

namespace DaprGame.Chat.Domain.Tests;

/// <summary>Roles, sanctions with expiry, the content filter, the rate bucket, purge and reports.</summary>
public sealed class ModerationTests
{
    private static ChatChannel Moderated(TimeProvider clock, ChannelSettings? settings = null)
    {
        var channel = Room(clock, settings, "owner", "mod", "mod2", "alice", "bob");
        channel.SetRole("owner", "mod", ChannelRole.Moderator).GetValueOrThrow();
        channel.SetRole("owner", "mod2", ChannelRole.Moderator).GetValueOrThrow();
        channel.TakeChanges();
        return channel;
    }

    [Fact]
    public void A_mute_stops_posts_and_edits_until_it_expires_by_the_clock()
    {
        var clock = Clock();
        var channel = Moderated(clock);
        var ack = channel.Post("alice", "m0", "before").GetValueOrThrow();

        channel.Mute("mod", "alice", Start.AddMinutes(10), "spam").GetValueOrThrow();
        Refused(channel.Post("alice", "m1", "hello"), ChatErrorKind.Muted);
        Refused(channel.Edit("alice", ack.Offset, "edited"), ChatErrorKind.Muted);
        clock.Advance(TimeSpan.FromMinutes(10));

        channel.Post("alice", "m1", "hello").GetValueOrThrow();
        var audit = channel.TakeChanges().Moderation.Single();
        Assert.Equal(("muted", "mod", "alice", "spam"), (audit.Action, audit.ActorId, audit.TargetPlayerId, audit.Reason));
        Assert.Equal(Start.AddMinutes(10), audit.Until);
        Assert.Equal("chat.moderation.muted.v1", ChatModerationAction.EventTypeOf(audit.Action));
    }

    [Fact]
    public void Unmute_lifts_a_mute_and_refuses_when_there_is_none()
    {
        var channel = Moderated(Clock());
        channel.Mute("mod", "alice", null, null).GetValueOrThrow();

        channel.Unmute("mod", "alice").GetValueOrThrow();

        channel.Post("alice", "m", "free").GetValueOrThrow();
        Refused(channel.Unmute("mod", "alice"), ChatErrorKind.NotFound);
        Assert.Equal(["muted", "unmuted"], channel.TakeChanges().Moderation.Select(m => m.Action));
    }

    [Fact]
    public void A_ban_removes_the_member_refuses_joins_and_expires()
    {
        var clock = Clock();
        var channel = Moderated(clock);

        channel.Ban("mod", "alice", Start.AddHours(1), "abuse").GetValueOrThrow();

        var left = channel.TakeChanges().Appended.OfType<ChatMemberLeft>().Single();
        Assert.Equal(("alice", "banned", "mod"), (left.PlayerId, left.Reason, left.By));
        Assert.Null(channel.RoleOf("alice"));
        Refused(channel.Join("alice"), ChatErrorKind.Banned);
        clock.Advance(TimeSpan.FromHours(1));
        channel.Join("alice").GetValueOrThrow();
    }

    [Fact]
    public void Unban_lets_the_player_back_in()
    {
        var channel = Moderated(Clock());
        channel.Ban("mod", "alice", null, null).GetValueOrThrow();

        channel.Unban("mod", "alice").GetValueOrThrow();

        channel.Join("alice").GetValueOrThrow();
    }

    [Fact]
    public void A_moderator_cannot_sanction_the_owner_or_an_equal_and_members_cannot_sanction_at_all()
    {
        var channel = Moderated(Clock());
        var before = Fingerprint(channel);

        Refused(channel.Mute("mod", "owner", null, null), ChatErrorKind.Forbidden);
        Refused(channel.Ban("mod", "mod2", null, null), ChatErrorKind.Forbidden);
        Refused(channel.Kick("mod", "mod2"), ChatErrorKind.Forbidden);
        Refused(channel.Mute("alice", "bob", null, null), ChatErrorKind.Forbidden);
        Refused(channel.Purge("alice", "bob"), ChatErrorKind.Forbidden);
        Refused(channel.SetRole("mod", "alice", ChannelRole.Moderator), ChatErrorKind.Forbidden);
        Refused(channel.Mute("mod", "mod", null, null), ChatErrorKind.Invalid);
        Refused(channel.Mute("mod", "alice", Start.AddSeconds(-1), null), ChatErrorKind.Invalid);

        Assert.Equal(before, Fingerprint(channel));
        Assert.True(channel.TakeChanges().IsEmpty);
    }

    [Fact]
    public void The_owner_sanctions_moderators_and_kicks_produce_left_kicked()
    {
        var channel = Moderated(Clock());

        channel.Kick("owner", "mod2").GetValueOrThrow();
        channel.Kick("mod", "bob").GetValueOrThrow();

        var changes = channel.TakeChanges();
        Assert.Equal([("mod2", "kicked", "owner"), ("bob", "kicked", "mod")],
            changes.Appended.OfType<ChatMemberLeft>().Select(l => (l.PlayerId, l.Reason, l.By!)));
        Assert.Equal(["kicked", "kicked"], changes.Moderation.Select(m => m.Action));
        Assert.Equal([("mod2", (ChannelRole?)null), ("bob", null)], changes.Members.Select(m => (m.Key, m.Value)));
    }

    [Fact]
    public void Role_changes_are_the_owners_and_audited()
    {
        var channel = Moderated(Clock());

        channel.SetRole("owner", "alice", ChannelRole.Moderator).GetValueOrThrow();

        Assert.Equal(ChannelRole.Moderator, channel.RoleOf("alice"));
        var audit = channel.TakeChanges().Moderation.Single();
        Assert.Equal(("role_changed", "alice", "moderator"), (audit.Action, audit.TargetPlayerId, audit.Detail));
    }

    [Fact]
    public void Moderators_delete_messages_below_their_role_and_members_delete_only_their_own()
    {
        var channel = Moderated(Clock());
        var alices = channel.Post("alice", "a", "rude").GetValueOrThrow();
        var owners = channel.Post("owner", "o", "rules").GetValueOrThrow();

        Refused(channel.Delete("bob", alices.Offset), ChatErrorKind.Forbidden);
        Refused(channel.Delete("mod", owners.Offset), ChatErrorKind.Forbidden);
        Refused(channel.Edit("bob", alices.Offset, "not mine"), ChatErrorKind.Forbidden);
        channel.Delete("mod", alices.Offset).GetValueOrThrow();

        var changes = channel.TakeChanges();
        var deleted = changes.Appended.OfType<ChatMessageDeleted>().Single();
        Assert.Equal(("mod", "moderator"), (deleted.DeletedBy, deleted.Reason));
        Assert.Equal(("deleted", alices.Offset), (changes.Moderation.Single().Action, changes.Moderation.Single().TargetOffset));
    }

    [Fact]
    public void Purge_deletes_every_message_of_the_player_in_the_window_one_event_each()
    {
        var channel = Moderated(Clock());
        var targets = new[] { channel.Post("alice", "1", "a").GetValueOrThrow(), channel.Post("alice", "2", "b").GetValueOrThrow() };
        channel.Post("bob", "3", "c").GetValueOrThrow();
        channel.Delete("alice", targets[0].Offset).GetValueOrThrow();
        var third = channel.Post("alice", "4", "d").GetValueOrThrow();
        channel.TakeChanges();

        var count = channel.Purge("mod", "alice").GetValueOrThrow();

        Assert.Equal(2, count);
        var changes = channel.TakeChanges();
        Assert.Equal([targets[1].Offset, third.Offset], changes.Appended.Cast<ChatMessageDeleted>().Select(d => d.TargetOffset));
        Assert.All(changes.Appended.Cast<ChatMessageDeleted>(), d => Assert.Equal("purge", d.Reason));
        Assert.Equal(("purged", "2"), (changes.Moderation.Single().Action, changes.Moderation.Single().Detail));
        Assert.All(channel.Window.OfType<ChatMessagePosted>().Where(p => p.SenderId == "alice"), p => Assert.Equal("", p.Text));
        Assert.Equal("c", channel.Window.OfType<ChatMessagePosted>().Single(p => p.SenderId == "bob").Text);
    }

    [Fact]
    public void Mask_mode_replaces_blocked_whole_words_case_insensitively_and_audits_it()
    {
        var channel = Room(Clock(), Settings(blocklist: ["darn", "heck"]), members: "alice");

        var ack = channel.Post("alice", "1", "Darn it, what the HECK; darning is fine").GetValueOrThrow();

        Assert.True(ack.Masked);
        var changes = channel.TakeChanges();
        Assert.Equal("*** it, what the ***; darning is fine", changes.Appended.Cast<ChatMessagePosted>().Single().Text);
        var audit = changes.Moderation.Single();
        Assert.Equal(("filtered", "system", "alice", ack.Offset), (audit.Action, audit.ActorId, audit.TargetPlayerId, audit.TargetOffset));
        Assert.False(channel.Post("alice", "2", "clean words").GetValueOrThrow().Masked);
    }

    [Fact]
    public void Reject_mode_refuses_the_message_and_changes_nothing()
    {
        var channel = Room(Clock(), Settings(blocklist: ["darn"], mode: FilterMode.Reject), members: "alice");
        var before = Fingerprint(channel);

        Refused(channel.Post("alice", "1", "well DARN"), ChatErrorKind.ContentRejected);

        Assert.Equal(before, Fingerprint(channel));
        Assert.True(channel.TakeChanges().IsEmpty);
        Assert.False(channel.Post("alice", "1", "fine").GetValueOrThrow().Duplicate);
    }

    [Fact]
    public void The_rate_bucket_allows_a_burst_then_the_sustained_rate()
    {
        var clock = Clock();
        var channel = Room(clock, Settings(burst: 10, rate: 5), members: ["alice", "bob"]);

        for (var i = 0; i < 10; i++)
        {
            channel.Post("alice", $"b{i}", "burst").GetValueOrThrow();
        }
        Refused(channel.Post("alice", "over", "one too many"), ChatErrorKind.RateLimited);
        channel.Post("bob", "own-bucket", "bob is not limited by alice").GetValueOrThrow();
        clock.Advance(TimeSpan.FromMilliseconds(200));
        channel.Post("alice", "over", "a token came back").GetValueOrThrow();
        Refused(channel.Post("alice", "over2", "and only one"), ChatErrorKind.RateLimited);
    }

    [Fact]
    public void Token_bucket_refills_by_elapsed_time_up_to_the_burst()
    {
        var bucket = new TokenBucket(2, 3, Start);

        Assert.True(bucket.TryTake(Start) && bucket.TryTake(Start) && bucket.TryTake(Start));
        Assert.False(bucket.TryTake(Start));
        Assert.True(bucket.TryTake(Start.AddSeconds(0.5)));
        Assert.False(bucket.TryTake(Start.AddSeconds(0.5)));
        Assert.True(bucket.IsFull(Start.AddSeconds(100)));
    }

    [Fact]
    public void Reports_queue_for_moderators_bounded_oldest_first_out()
    {
        var channel = Moderated(Clock(), Settings() with { MaxReports = 3 });
        var ack = channel.Post("bob", "1", "bad message").GetValueOrThrow();

        for (var i = 0; i < 5; i++)
        {
            channel.Report("alice", ack.Offset, $"reason {i}").GetValueOrThrow();
        }
        Refused(channel.Report("alice", 999, "nothing there"), ChatErrorKind.NotFound);
        Refused(channel.Report("stranger", ack.Offset, "x"), ChatErrorKind.NotMember);

        var reports = channel.ListReports("mod").GetValueOrThrow();
        Assert.Equal(["reason 2", "reason 3", "reason 4"], reports.Select(r => r.Reason));
        Assert.All(reports, r => Assert.Equal(("bob", "bad message"), (r.SenderId!, r.Text!)));
        Refused(channel.ListReports("alice"), ChatErrorKind.Forbidden);
        Assert.Equal(5, channel.TakeChanges().Moderation.Count(m => m.Action == "reported"));
    }

    [Fact]
    public void Moderation_records_have_their_own_growing_sequence_and_ids()
    {
        var channel = Moderated(Clock());

        channel.Mute("mod", "alice", null, null).GetValueOrThrow();
        channel.Mute("mod", "bob", null, null).GetValueOrThrow();

        var records = channel.TakeChanges().Moderation;
        Assert.Equal([records[0].Sequence + 1], [records[1].Sequence]);
        Assert.All(records, r => Assert.Equal("chat-moderation/room-test", r.StreamId));
        Assert.Equal(2, records.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public void Direct_channels_have_no_moderation()
    {
        var channel = ChatChannel.New(ChannelIds.Direct("amy", "zed"), Settings(), Clock());
        var ack = channel.PostDirect("amy", "zed", "1", "hi").GetValueOrThrow();

        Refused(channel.Mute("amy", "zed", null, null), ChatErrorKind.Forbidden);
        Refused(channel.Kick("amy", "zed"), ChatErrorKind.Forbidden);
        Refused(channel.Delete("zed", ack.Offset), ChatErrorKind.Forbidden);
        Refused(channel.Invite("amy", "eve"), ChatErrorKind.Forbidden);
    }
}
