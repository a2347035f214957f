using System.Text.Json;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Views;

/// <summary>A snapshot survives the trip through JSON the host will make, and a damaged one is refused.</summary>
public sealed class SnapshotStorageTests
{
    private static (EventLog Log, ViewSnapshot Snapshot) Sample()
    {
        var log = new EventLog();
        log.Append([
            WalletChanged("alice", 1, "currency:GOLD", 100), WalletChanged("alice", 2, "item:ore", 3),
            ChatPosted("lobby", 1, "alice", "hi"), ChatEdited("lobby", 2, 1, "hello"), Fill("ore-GOLD", 1, "alice", "bob", 10, 2, T0),
            MatchEnded("m-1", 1, "alice", "bob"),
        ]);
        var views = new ViewSet();
        views.CatchUp(log.Records);
        return (log, views.Snapshot());
    }

    private static T RoundTrip<T>(T value) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, JsonSerializerOptions.Web), JsonSerializerOptions.Web)!;

    [Fact]
    public void Every_views_state_round_trips_through_json_to_the_same_content_hash()
    {
        var (log, snapshot) = Sample();
        var v = snapshot.Views;
        View[] stored =
        [
            new PlayerProfilesView(RoundTrip(((PlayerProfilesView)v[0]).State.ToDictionary())),
            new MatchHistoryView(RoundTrip(((MatchHistoryView)v[1]).State.ToDictionary())),
            new ChatHistoryView(RoundTrip(((ChatHistoryView)v[2]).State.ToDictionary())),
            new TradeHistoryView(RoundTrip(((TradeHistoryView)v[3]).State.ToDictionary())),
            new CandlesView(RoundTrip(((CandlesView)v[4]).State.ToDictionary())),
        ];

        var restored = ViewSet.Restore(new ViewSnapshot(snapshot.Watermark, snapshot.Skipped, stored, snapshot.Hash));

        Assert.Equal(ViewSet.Rebuild(log.Records).ContentHash(), restored.ContentHash());
        Assert.Equal(3, restored.Profiles.Find("alice")!.InventoryCount);
    }

    [Fact]
    public void A_snapshot_whose_content_no_longer_matches_its_hash_or_layout_is_refused()
    {
        var (_, snapshot) = Sample();
        var other = ViewSet.Rebuild(new EventLog().Records).Snapshot();

        Assert.Throws<ArgumentException>(() => ViewSet.Restore(snapshot with { Views = other.Views }));
        Assert.Throws<ArgumentException>(() => ViewSet.Restore(snapshot with { Views = [.. snapshot.Views.Reverse()] }));
        Assert.Throws<ArgumentException>(() => ViewSet.Restore(snapshot with { Views = snapshot.Views.Take(4).ToList() }));
    }
}
