using DaprGame.Chat.Domain.Channels;
using DaprGame.Contracts.Chat;
using static DaprGame.Chat.Domain.Tests.ChannelKit;

namespace DaprGame.Chat.Domain.Tests;

/// <summary>The channel stream: offsets, epoch, deduplication, the history window and paging.</summary>
public sealed class StreamTests
{
    [Fact]
    public void Creation_sets_the_epoch_from_the_clock_and_the_owner_joins_at_offset_1()
    {
        var clock = Clock();
        var channel = ChatChannel.New("room-test", Settings(), clock);

        var info = channel.Create(ChannelKind.Room, "test", "owner").GetValueOrThrow();

        Assert.Equal(Start.ToUnixTimeMilliseconds(), info.Epoch);
        Assert.Equal(1, info.Offset);
        var joined = Assert.IsType<ChatMemberJoined>(Assert.Single(channel.TakeChanges().Appended));
        Assert.Equal(("owner", ChannelRole.Owner, 1L), (joined.PlayerId, joined.Role, joined.Offset));
        Assert.Equal($"room-test:{info.Epoch}:1", joined.Id);
        Assert.Equal("chat/room-test", joined.StreamId);
        Assert.Equal(joined.Offset, joined.Sequence);
    }

    [Fact]
    public void Posts_get_consecutive_offsets_in_one_unchanging_epoch()
    {
        var clock = Clock();
        var channel = Room(clock, members: "alice");
        var epoch = channel.Epoch;

        var acks = Enumerable.Range(0, 5).Select(i =>
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            return channel.Post("alice", $"m{i}", $"hello {i}").GetValueOrThrow();
        }).ToList();

        Assert.Equal([3L, 4, 5, 6, 7], acks.Select(a => a.Offset));
        Assert.All(acks, a => Assert.Equal(epoch, a.Epoch));
        Assert.All(acks, a => Assert.False(a.Duplicate));
        var posted = channel.TakeChanges().Appended.Cast<ChatMessagePosted>().ToList();
        Assert.Equal(Start.AddMinutes(5), posted[^1].OccurredAt);
    }

    [Fact]
    public void A_resend_with_the_same_client_message_id_returns_the_original_ack_and_appends_nothing()
    {
        var channel = Room(Clock(), members: ["alice", "bob"]);
        var first = channel.Post("alice", "same", "hi").GetValueOrThrow();
        channel.TakeChanges();

        var again = channel.Post("alice", "same", "a different text, still the same message").GetValueOrThrow();
        var other = channel.Post("bob", "same", "bob's own message").GetValueOrThrow();

        Assert.Equal(first with { Duplicate = true }, again);
        Assert.False(other.Duplicate);
        Assert.Equal(first.Offset + 1, other.Offset);
        Assert.Single(channel.TakeChanges().Appended);
    }

    [Fact]
    public void The_window_keeps_the_most_recent_events_and_evicts_the_oldest_with_their_dedup_keys()
    {
        var channel = Room(Clock(), Settings(window: 5), members: "alice");
        for (var i = 0; i < 8; i++)
        {
            channel.Post("alice", $"m{i}", $"text {i}").GetValueOrThrow();
        }
        var changes = channel.TakeChanges();

        Assert.Equal([6L, 7, 8, 9, 10], channel.Window.Select(e => e.Offset));
        Assert.Equal(6, channel.FirstAvailableOffset);
        Assert.Equal(6, channel.Meta.FirstOffset);
        Assert.Equal([1L, 2, 3, 4, 5], changes.Evicted.Order());
        // m0 (offset 3) fell out: its id may be used again and is a new message.
        Assert.False(channel.Post("alice", "m0", "again").GetValueOrThrow().Duplicate);
        Assert.True(channel.Post("alice", "m7", "again").GetValueOrThrow().Duplicate);
    }

    [Fact]
    public void History_pages_after_an_offset_and_reports_truncation_when_the_offset_fell_out_of_the_window()
    {
        var channel = Room(Clock(), Settings(window: 5), members: "alice");
        for (var i = 0; i < 8; i++)
        {
            channel.Post("alice", $"m{i}", $"text {i}").GetValueOrThrow();
        }

        var fresh = channel.History("alice", after: 7, limit: 2).GetValueOrThrow();
        var stale = channel.History("alice", after: 2, limit: 10).GetValueOrThrow();
        var exact = channel.History("alice", after: 5, limit: 10).GetValueOrThrow();
        var latest = channel.History("alice", after: null, limit: 2).GetValueOrThrow();
        var beyond = channel.History("alice", after: 10, limit: 10).GetValueOrThrow();

        Assert.Equal([8L, 9], fresh.Events.Select(e => e.Offset));
        Assert.False(fresh.Truncated);
        Assert.Equal((10L, 6L), (fresh.LatestOffset, fresh.FirstAvailableOffset));
        Assert.True(stale.Truncated);
        Assert.Equal([6L, 7, 8, 9, 10], stale.Events.Select(e => e.Offset));
        Assert.False(exact.Truncated);
        Assert.Equal(6, exact.Events[0].Offset);
        Assert.Equal([9L, 10], latest.Events.Select(e => e.Offset));
        Assert.Empty(beyond.Events);
    }

    [Theory]
    [InlineData(-1L, 10)]
    [InlineData(0L, 0)]
    [InlineData(0L, 201)]
    public void History_refuses_a_bad_offset_or_limit(long after, int limit)
    {
        var channel = Room(Clock(), members: "alice");

        Refused(channel.History("alice", after, limit), ChatErrorKind.Invalid);
    }

    [Fact]
    public void Edit_appends_an_edited_event_and_history_serves_the_new_text()
    {
        var channel = Room(Clock(), members: "alice");
        var ack = channel.Post("alice", "m", "helo").GetValueOrThrow();
        channel.TakeChanges();

        var edit = channel.Edit("alice", ack.Offset, "hello").GetValueOrThrow();

        var changes = channel.TakeChanges();
        var edited = Assert.IsType<ChatMessageEdited>(Assert.Single(changes.Appended));
        Assert.Equal((ack.Offset, "alice", "hello", edit.Offset), (edited.TargetOffset, edited.EditorId, edited.Text, edited.Offset));
        Assert.Equal([ack.Offset], changes.Rewritten);
        var stored = channel.Window.OfType<ChatMessagePosted>().Single();
        Assert.Equal("hello", stored.Text);
    }

    [Fact]
    public void Delete_of_ones_own_message_appends_a_deleted_event_and_redacts_it()
    {
        var channel = Room(Clock(), members: "alice");
        var ack = channel.Post("alice", "m", "oops").GetValueOrThrow();

        channel.Delete("alice", ack.Offset).GetValueOrThrow();

        var deleted = channel.Window.OfType<ChatMessageDeleted>().Single();
        Assert.Equal((ack.Offset, "alice", "own"), (deleted.TargetOffset, deleted.DeletedBy, deleted.Reason));
        Assert.Equal("", channel.Window.OfType<ChatMessagePosted>().Single().Text);
        Refused(channel.Delete("alice", ack.Offset), ChatErrorKind.Conflict);
        Refused(channel.Edit("alice", ack.Offset, "back"), ChatErrorKind.NotFound);
    }

    [Fact]
    public void Text_is_trimmed_and_must_be_1_to_2000_characters()
    {
        var channel = Room(Clock(), members: "alice");

        Refused(channel.Post("alice", "a", "   "), ChatErrorKind.Invalid);
        Refused(channel.Post("alice", "b", new string('x', 2001)), ChatErrorKind.Invalid);
        Refused(channel.Post("alice", "", "hi"), ChatErrorKind.Invalid);
        Refused(channel.Post("alice", new string('c', 65), "hi"), ChatErrorKind.Invalid);
        channel.Post("alice", "c", "  " + new string('x', 2000) + "  ").GetValueOrThrow();
        Assert.Equal(2000, channel.Window.OfType<ChatMessagePosted>().Single().Text.Length);
    }

    [Fact]
    public void Restoring_a_channel_from_what_it_stored_continues_offsets_and_keeps_dedup()
    {
        var clock = Clock();
        var channel = Room(clock, Settings(window: 4), members: "alice");
        var first = channel.Post("alice", "m1", "one").GetValueOrThrow();
        channel.Post("alice", "m2", "two").GetValueOrThrow();

        var restored = ChatChannel.Restore(
            new ChannelSnapshot(channel.Meta, channel.Members, channel.Window, channel.Sanctions, channel.Invitations, channel.Reports), Settings(window: 4), clock);

        Assert.True(restored.Post("alice", "m1", "one").GetValueOrThrow().Duplicate);
        var next = restored.Post("alice", "m3", "three").GetValueOrThrow();
        Assert.Equal(channel.Offset + 1, next.Offset);
        Assert.Equal(first.Epoch, next.Epoch);
    }

    [Fact]
    public void The_outbox_lists_unpublished_events_until_marked()
    {
        var channel = Room(Clock(), members: "alice");
        channel.MarkPublished(channel.Offset);
        channel.Post("alice", "m1", "one").GetValueOrThrow();
        channel.Post("alice", "m2", "two").GetValueOrThrow();

        Assert.Equal([3L, 4], channel.Unpublished().Select(e => e.Offset));
        channel.MarkPublished(3);
        Assert.Equal([4L], channel.Unpublished().Select(e => e.Offset));
        channel.MarkPublished(99);
        Assert.Empty(channel.Unpublished());
        Assert.Equal(channel.Offset, channel.Meta.PublishedThrough);
    }
}
