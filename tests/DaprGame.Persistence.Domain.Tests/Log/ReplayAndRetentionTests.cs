using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Retention;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Log;

public sealed class ReplayAndRetentionTests
{
    private static EventLog Sample()
    {
        var log = new EventLog();
        log.Append([ChatPosted("lobby", 1, "a", "1"), WalletChanged("bob", 1, "currency:GOLD", 1), ChatPosted("lobby", 2, "a", "2")]);
        log.Rollback(new RollbackMarker(2, "ops", "drop chat 2", T0));                 // 4
        log.Append([ChatPosted("lobby", 3, "a", "3"), WalletChanged("bob", 2, "currency:GOLD", 2)]);   // 5, 6
        return log;
    }

    [Fact]
    public void Replay_by_stream_returns_its_live_events_in_order_from_a_version()
    {
        var records = Sample().Records;

        Assert.Equal([1L, 5], ReplaySelection.ByStream(records, "chat/lobby").Select(r => r.Position));
        Assert.Equal([1L, 3, 5], ReplaySelection.ByStream(records, "chat/lobby", includeRolledBack: true).Select(r => r.Position));
        Assert.Equal([6L], ReplaySelection.ByStream(records, "trading/wallet/bob", fromVersion: 2).Select(r => r.Position));
    }

    [Fact]
    public void Replay_by_position_range_skips_markers_and_rolled_back_events()
    {
        var records = Sample().Records;

        Assert.Equal([2L, 5], ReplaySelection.ByPosition(records, 2, 5).Select(r => r.Position));
        Assert.Equal([2L, 3, 5], ReplaySelection.ByPosition(records, 2, 5, includeRolledBack: true).Select(r => r.Position));
    }

    [Fact]
    public void Retention_archives_a_prefix_beyond_the_count_or_age_never_past_a_watermark_a_marker_or_an_unmanaged_stream()
    {
        var log = new EventLog();
        log.Append([
            ChatPosted("lobby", 1, "a", "1", T0), ChatPosted("lobby", 2, "a", "2", T0), ChatPosted("lobby", 3, "a", "3", T0.AddDays(9)),
            Fill("ore-GOLD", 1, "a", "b", 1, 1, T0), ChatPosted("lobby", 4, "a", "4", T0.AddDays(9)),
        ]);
        RetentionPolicy[] keepTwoChats = [new("chat/", 2, null), new("trading/book/", null, TimeSpan.FromDays(7))];
        var now = T0.AddDays(10);

        Assert.Equal(2, RetentionRules.ArchivablePrefix(log.Records, keepTwoChats, now, lowestWatermark: 5));  // chat 3 is among the newest two
        Assert.Equal(1, RetentionRules.ArchivablePrefix(log.Records, keepTwoChats, now, lowestWatermark: 1));  // views have not passed 2
        Assert.Equal(0, RetentionRules.ArchivablePrefix(log.Records, [new("trading/", 0, null)], now, 5));    // chat has no policy
        RetentionPolicy[] keepOneChat = [new("chat/", 1, null), new("trading/book/", null, TimeSpan.FromDays(7))];
        Assert.Equal(4, RetentionRules.ArchivablePrefix(log.Records, keepOneChat, now, 5));
        RetentionPolicy[] keepOneChatAWeek = [new("chat/", 1, TimeSpan.FromDays(7)), new("trading/book/", null, TimeSpan.FromDays(7))];
        Assert.Equal(2, RetentionRules.ArchivablePrefix(log.Records, keepOneChatAWeek, now, 5));              // chat 3 is a day old

        log.Rollback(new RollbackMarker(1, "ops", "x", now));
        log.Append([ChatPosted("lobby", 5, "a", "5"), ChatPosted("lobby", 6, "a", "6"), ChatPosted("lobby", 7, "a", "7")]);
        Assert.Equal(5, RetentionRules.ArchivablePrefix(log.Records, [new("chat/", 2, null), new("trading/", 0, null)], now, 9));
    }
}
