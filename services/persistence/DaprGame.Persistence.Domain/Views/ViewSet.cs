using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>
/// Every view, kept up to date record by record, with one position watermark: the views reflect exactly the live
/// events at or before <see cref="Watermark"/>. An event record is folded into the views that handle its type; unknown
/// types and malformed data are skipped but still advance the watermark. A rollback marker to P makes the views what
/// they were at P, by rebuilding them from the live set at P (<see cref="LiveSet"/>): rollbacks are rare, and a rebuild
/// is the one way that cannot drift from a full replay.
/// </summary>
public sealed class ViewSet
{
    private readonly View[] _views;

    public ViewSet() : this([new PlayerProfilesView(), new MatchHistoryView(), new ChatHistoryView(), new TradeHistoryView(), new CandlesView()], 0, 0)
    {
    }

    private ViewSet(View[] views, long watermark, long skipped)
    {
        _views = views;
        Watermark = watermark;
        Skipped = skipped;
    }

    /// <summary>The last log position folded in (0: none).</summary>
    public long Watermark { get; private set; }

    /// <summary>Event records whose data was malformed for a view that handles their type (reported, not fatal).</summary>
    public long Skipped { get; private set; }

    public IReadOnlyList<View> Views => _views;

    public PlayerProfilesView Profiles => (PlayerProfilesView)_views[0];

    public MatchHistoryView Matches => (MatchHistoryView)_views[1];

    public ChatHistoryView Chat => (ChatHistoryView)_views[2];

    public TradeHistoryView Trades => (TradeHistoryView)_views[3];

    public CandlesView Candles => (CandlesView)_views[4];

    /// <summary>The views as a full replay of <paramref name="records"/> (by position) leaves them.</summary>
    public static ViewSet Rebuild(IReadOnlyList<LogRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var views = new ViewSet();
        views.ReplayLive(records, records.Count);
        views.Watermark = records.Count;
        return views;
    }

    /// <summary>
    /// The views as they were at the snapshot. The snapshot's views must be those of <see cref="Views"/>, in that order
    /// (a snapshot read back from storage is rebuilt with each view's state constructor), and their content must still
    /// hash to <see cref="ViewSnapshot.Hash"/>: a damaged or mismatched snapshot is refused, and the host falls back to
    /// an older one or a full replay.
    /// </summary>
    public static ViewSet Restore(ViewSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var expected = new ViewSet()._views;
        if (snapshot.Views.Count != expected.Length)
        {
            throw new ArgumentException($"a snapshot holds {expected.Length} views, this one {snapshot.Views.Count}", nameof(snapshot));
        }
        var views = new View[expected.Length];
        for (var i = 0; i < views.Length; i++)
        {
            if (snapshot.Views[i].GetType() != expected[i].GetType())
            {
                throw new ArgumentException($"view {i} should be {expected[i].Name}, is {snapshot.Views[i].Name}", nameof(snapshot));
            }
            views[i] = snapshot.Views[i].Clone();
        }
        var restored = new ViewSet(views, snapshot.Watermark, snapshot.Skipped);
        if (restored.ContentHash() != snapshot.Hash)
        {
            throw new ArgumentException($"the snapshot at {snapshot.Watermark} does not match its hash", nameof(snapshot));
        }
        return restored;
    }

    /// <summary>
    /// Folds the records after the watermark, in order. <paramref name="records"/> is the whole log by position, needed
    /// when a rollback marker is met; records at or below the watermark are ignored (re-reading a page is harmless).
    /// </summary>
    public void CatchUp(IReadOnlyList<LogRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        for (var position = Watermark + 1; position <= records.Count; position++)
        {
            Apply(records[(int)(position - 1)], records);
        }
    }

    public void Apply(LogRecord record, IReadOnlyList<LogRecord> records)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Position <= Watermark)
        {
            return;
        }
        if (record.Position != Watermark + 1)
        {
            throw new InvalidOperationException($"views are at position {Watermark}; record {record.Position} would skip records");
        }
        if (record.Kind == RecordKind.Rollback)
        {
            Clear();
            ReplayLive(records, record.Sequence);
        }
        else
        {
            Fold(record);
        }
        Watermark = record.Position;
    }

    /// <summary>
    /// An independent copy (view states are immutable values, so this copies references only): a host takes it under its
    /// lock and hashes or snapshots it outside, without holding up appends.
    /// </summary>
    public ViewSet Copy()
    {
        var views = new View[_views.Length];
        for (var i = 0; i < views.Length; i++)
        {
            views[i] = _views[i].Clone();
        }
        return new ViewSet(views, Watermark, Skipped);
    }

    public ViewSnapshot Snapshot()
    {
        var views = new View[_views.Length];
        for (var i = 0; i < views.Length; i++)
        {
            views[i] = _views[i].Clone();
        }
        return new ViewSnapshot(Watermark, Skipped, views, ContentHash());
    }

    /// <summary>One hash over every view's content hash (in a fixed view order).</summary>
    public string ContentHash()
    {
        using var hasher = new ContentHasher();
        foreach (var view in _views)
        {
            hasher.Add(view.ContentHash());
        }
        return hasher.Finish();
    }

    private void Clear()
    {
        foreach (var view in _views)
        {
            view.Clear();
        }
        Skipped = 0;
    }

    private void ReplayLive(IReadOnlyList<LogRecord> records, long upTo)
    {
        foreach (var position in LiveSet.At(records, upTo))
        {
            Fold(records[(int)(position - 1)]);
        }
    }

    private void Fold(LogRecord record)
    {
        JsonDocument? document = null;
        try
        {
            foreach (var view in _views)
            {
                if (!view.Handles(record.Type))
                {
                    continue;
                }
                document ??= JsonDocument.Parse(record.Data);
                view.Apply(record, document.RootElement);
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            Skipped++;
        }
        finally
        {
            document?.Dispose();
        }
    }
}
