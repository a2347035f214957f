using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Log;

public sealed class RollbackTests
{
    private static readonly DateTimeOffset At = T0.AddHours(1);

    private static (EventLog Log, ViewSet Views) Build(params IncomingEvent[] events)
    {
        var log = new EventLog();
        var views = new ViewSet();
        log.Append(events);
        views.CatchUp(log.Records);
        return (log, views);
    }

    private static ViewSet ReplayOf(IEnumerable<LogRecord> prefix) => ViewSet.Rebuild(prefix.ToList());

    [Fact]
    public void After_a_rollback_views_equal_a_replay_to_P_and_later_events_are_still_in_the_log_marked_rolled_back()
    {
        var (log, views) = Build(
            WalletChanged("alice", 1, "currency:GOLD", 100), ChatPosted("lobby", 1, "alice", "hi"),
            WalletChanged("alice", 2, "currency:GOLD", 1_000_000), Fill("sword-GOLD", 1, "alice", "bob", 1, 1, T0));

        var plan = log.Rollback(new RollbackMarker(2, "ops:carol", "duplicated gold", At));
        views.CatchUp(log.Records);

        Assert.Equal(5, plan.NewHead.Position);
        Assert.Equal(ReplayOf(log.Records.Take(2)).ContentHash(), views.ContentHash());
        Assert.Equal(100, views.Profiles.Find("alice")!.Assets["currency:GOLD"].Available);
        Assert.Equal(5, log.Records.Count);
        Assert.Equal([3L, 4], LiveSet.RolledBack(log.Records).Order());
        Assert.Equal(new RollbackMarker(2, "ops:carol", "duplicated gold", At), RollbackMarker.FromRecord(log.Records[4]));
        Assert.True(ChainVerifier.Verify(log.Records).IsValid);
        Assert.Equal(views.ContentHash(), ViewSet.Rebuild(log.Records).ContentHash());
    }

    [Fact]
    public void Events_after_the_marker_count_and_a_redelivered_rolled_back_event_stays_rolled_back()
    {
        var bad = WalletChanged("alice", 2, "currency:GOLD", 1_000_000);
        var (log, views) = Build(WalletChanged("alice", 1, "currency:GOLD", 100), bad);
        log.Rollback(new RollbackMarker(1, "ops", "bad credit", At));
        var after = log.Append([bad, ChatPosted("lobby", 1, "bob", "after")]);
        views.CatchUp(log.Records);

        Assert.Equal(AppendStatus.Duplicate, after.Outcomes[0].Status);
        Assert.Equal(100, views.Profiles.Find("alice")!.Assets["currency:GOLD"].Available);
        Assert.Equal(["after"], views.Chat.Page("lobby", 0, 10).Select(m => m.Text));
        var expected = Build(WalletChanged("alice", 1, "currency:GOLD", 100), ChatPosted("lobby", 1, "bob", "after")).Views;
        Assert.Equal(expected.ContentHash(), views.ContentHash());
        Assert.Equal(views.ContentHash(), ViewSet.Rebuild(log.Records).ContentHash());
    }

    [Fact]
    public void A_second_rollback_works_both_to_an_earlier_point_and_to_a_point_after_the_first_marker()
    {
        var (log, views) = Build(ChatPosted("c", 1, "a", "1"), ChatPosted("c", 2, "a", "2"), ChatPosted("c", 3, "a", "3"));
        log.Rollback(new RollbackMarker(2, "ops", "first", At));          // position 4
        log.Append([ChatPosted("c", 4, "a", "4"), ChatPosted("c", 5, "a", "5")]);   // 5, 6
        log.Rollback(new RollbackMarker(5, "ops", "second", At));         // 7: keep "4", drop "5"
        views.CatchUp(log.Records);

        Assert.Equal(["1", "2", "4"], views.Chat.Page("c", 0, 10).Select(m => m.Text));
        Assert.Equal([3L, 6], LiveSet.RolledBack(log.Records).Order());
        Assert.Equal(ReplayOf(log.Records.Take(5)).ContentHash(), views.ContentHash());

        log.Rollback(new RollbackMarker(1, "ops", "third", At));          // 8: back before both
        views.CatchUp(log.Records);
        Assert.Equal(["1"], views.Chat.Page("c", 0, 10).Select(m => m.Text));
        Assert.Equal(ReplayOf(log.Records.Take(1)).ContentHash(), views.ContentHash());
        Assert.Equal(views.ContentHash(), ViewSet.Rebuild(log.Records).ContentHash());
    }

    [Fact]
    public void Rolling_back_to_a_point_inside_a_rolled_back_range_restores_the_state_as_it_was_at_that_point()
    {
        var (log, views) = Build(ChatPosted("c", 1, "a", "1"), ChatPosted("c", 2, "a", "2"), ChatPosted("c", 3, "a", "3"));
        log.Rollback(new RollbackMarker(1, "ops", "too far", At));        // 4
        log.Rollback(new RollbackMarker(2, "ops", "undo: only 3 was bad", At));  // 5
        views.CatchUp(log.Records);

        Assert.Equal(["1", "2"], views.Chat.Page("c", 0, 10).Select(m => m.Text));
        Assert.Equal(ReplayOf(log.Records.Take(2)).ContentHash(), views.ContentHash());
        Assert.Equal([3L], LiveSet.RolledBack(log.Records));
        Assert.Equal(views.ContentHash(), ViewSet.Rebuild(log.Records).ContentHash());
    }

    [Fact]
    public void A_rollback_without_a_reason_or_to_a_position_not_before_the_head_is_refused_and_appends_nothing()
    {
        var (log, _) = Build(ChatPosted("c", 1, "a", "1"), ChatPosted("c", 2, "a", "2"));

        Assert.Equal(RollbackError.TargetOutOfRange, RollbackPlanner.Validate(log.Head, new RollbackMarker(2, "ops", "why", At)));
        Assert.Equal(RollbackError.TargetOutOfRange, RollbackPlanner.Validate(log.Head, new RollbackMarker(-1, "ops", "why", At)));
        Assert.Equal(RollbackError.MissingReason, RollbackPlanner.Validate(log.Head, new RollbackMarker(1, "ops", " ", At)));
        Assert.Equal(RollbackError.None, RollbackPlanner.Validate(log.Head, new RollbackMarker(0, "ops", "all of it", At)));
        Assert.Throws<ArgumentException>(() => log.Rollback(new RollbackMarker(5, "ops", "why", At)));
        Assert.Equal(2, log.Records.Count);
    }
}
