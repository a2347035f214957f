using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Views;

public sealed class ViewTests
{
    private static readonly IncomingEvent[] History =
    [
        WalletChanged("alice", 1, "currency:GOLD", 100),
        WalletChanged("alice", 3, "currency:GOLD", 500),
        ChatPosted("lobby", 1, "alice", "hello"),
        Fill("sword-GOLD", 1, "alice", "bob", 100, 2, T0.AddSeconds(5)),
        Fill("sword-GOLD", 2, "carol", "bob", 120, 1, T0.AddSeconds(20)),
        Fill("sword-GOLD", 3, "alice", "carol", 90, 3, T0.AddSeconds(50)),
        Fill("sword-GOLD", 4, "alice", "bob", 110, 1, T0.AddSeconds(70)),
        ChatPosted("lobby", 2, "bob", "hey"),
        ChatEdited("lobby", 3, 1, "hello all"),
        ChatPosted("lobby", 4, "carol", "spam"),
        ChatDeleted("lobby", 5, 4),
        MatchEnded("m-1", 1, "alice", "bob", winnerKills: 7),
        MatchEnded("m-2", 1, "bob", "alice", winnerKills: 3),
        WalletChanged("alice", 4, "item:sword", 4, 1),
        WalletChanged("alice", 2, "currency:GOLD", 999),           // older ledger entry, delivered late
        Unknown("weather/zone-1", 1),
    ];

    private static EventLog LogOf(params IReadOnlyList<IncomingEvent>[] batches)
    {
        var log = new EventLog();
        foreach (var batch in batches)
        {
            log.Append(batch);
        }
        return log;
    }

    [Fact]
    public void Views_fold_the_events_users_see()
    {
        var views = ViewSet.Rebuild(LogOf(History).Records);

        var alice = views.Profiles.Find("alice")!;
        Assert.Equal(500, alice.Assets["currency:GOLD"].Available);        // the late, older entry does not win
        Assert.Equal(5, alice.InventoryCount);
        Assert.Equal((2, 1, 8L, 4L), (alice.Matches, alice.Wins, alice.Kills, alice.Deaths));
        Assert.Equal(["m-1", "m-2"], views.Matches.For("alice").Select(m => m.MatchId));
        Assert.Equal([true, false], views.Matches.For("alice").Select(m => m.Won));

        var page = views.Chat.Page("lobby", 1, 10);
        Assert.Equal([1L, 2, 4], page.Select(m => m.Offset));
        Assert.Equal(("hello all", true), (page[0].Text, page[0].Edited));
        Assert.Equal(("", true), (page[2].Text, page[2].Deleted));
        Assert.Equal([2L], views.Chat.Page("lobby", 2, 1).Select(m => m.Offset));
        Assert.Empty(views.Chat.Page("nowhere", 0, 10));

        Assert.Equal(["buy", "buy", "buy"], views.Trades.For("alice").Select(t => t.Side));
        Assert.Equal(["sell", "sell", "sell"], views.Trades.For("bob").Select(t => t.Side));
        var candles = views.Candles.For("sword-GOLD");
        Assert.Equal(2, candles.Count);
        Assert.Equal(new MinuteCandle(T0, 100, 120, 90, 90, 6, 3), candles[0]);
        Assert.Equal(new MinuteCandle(T0.AddMinutes(1), 110, 110, 110, 110, 1, 1), candles[1]);

        Assert.Equal(History.Length, views.Watermark);                    // the unknown type advanced it too
    }

    [Fact]
    public void Views_kept_incrementally_equal_a_rebuild_from_the_log_after_every_record()
    {
        var log = new EventLog();
        var incremental = new ViewSet();
        foreach (var e in History)
        {
            log.Append([e]);
            incremental.CatchUp(log.Records);

            var rebuilt = ViewSet.Rebuild(log.Records);
            Assert.Equal(rebuilt.ContentHash(), incremental.ContentHash());
            Assert.Equal(rebuilt.Views.Select(v => v.ContentHash()), incremental.Views.Select(v => v.ContentHash()));
            Assert.Equal(log.Head.Position, incremental.Watermark);
        }
    }

    [Fact]
    public void Content_hashes_depend_on_content_not_on_insertion_order()
    {
        var a = ViewSet.Rebuild(LogOf([WalletChanged("zed", 1, "currency:GOLD", 1), WalletChanged("amy", 1, "currency:GOLD", 2)]).Records);
        var b = ViewSet.Rebuild(LogOf([WalletChanged("amy", 1, "currency:GOLD", 2), WalletChanged("zed", 1, "currency:GOLD", 1)]).Records);
        var c = ViewSet.Rebuild(LogOf([WalletChanged("amy", 1, "currency:GOLD", 3), WalletChanged("zed", 1, "currency:GOLD", 1)]).Records);

        Assert.Equal(a.Profiles.ContentHash(), b.Profiles.ContentHash());
        Assert.NotEqual(a.Profiles.ContentHash(), c.Profiles.ContentHash());
    }

    [Fact]
    public void A_snapshot_plus_the_tail_equals_a_full_replay_and_the_snapshot_is_unaffected_by_later_changes()
    {
        var log = LogOf(History[..9]);
        var live = new ViewSet();
        live.CatchUp(log.Records);
        var snapshot = live.Snapshot();
        log.Append(History[9..]);
        live.CatchUp(log.Records);

        var recovered = ViewSet.Restore(snapshot);
        Assert.Equal(9, recovered.Watermark);
        Assert.Equal(snapshot.Hash, recovered.ContentHash());             // live went on without touching the snapshot
        recovered.CatchUp(log.Records);

        Assert.Equal(ViewSet.Rebuild(log.Records).ContentHash(), recovered.ContentHash());
        Assert.Equal(live.ContentHash(), recovered.ContentHash());
        Assert.NotEqual(snapshot.Hash, recovered.ContentHash());
    }

    [Fact]
    public void Malformed_data_is_skipped_counted_and_advances_the_watermark()
    {
        var broken = ChatPosted("lobby", 1, "a", "x") with { Data = "{\"channelId\":\"lobby\"}"u8.ToArray() };
        var notJson = WalletChanged("bob", 1, "currency:GOLD", 1) with { Data = "nope"u8.ToArray() };
        var views = ViewSet.Rebuild(LogOf([broken, notJson, ChatPosted("lobby", 2, "b", "ok")]).Records);

        Assert.Equal(3, views.Watermark);
        Assert.Equal(2, views.Skipped);
        Assert.Null(views.Profiles.Find("bob"));
        Assert.Equal([2L], views.Chat.Page("lobby", 0, 10).Select(m => m.Offset));
    }

    [Fact]
    public void Applying_a_record_beyond_the_watermark_is_refused_and_an_old_one_is_ignored()
    {
        var log = LogOf(History[..3]);
        var views = new ViewSet();

        Assert.Throws<InvalidOperationException>(() => views.Apply(log.Records[1], log.Records));
        views.CatchUp(log.Records);
        var hash = views.ContentHash();
        views.Apply(log.Records[0], log.Records);
        Assert.Equal(hash, views.ContentHash());
    }
}
