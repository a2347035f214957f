using System.Text;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Views;

public sealed class SnapshotCodecTests
{
    private static readonly TimeSpan India = TimeSpan.FromMinutes(330);

    private static EventLog SampleLog()
    {
        var log = new EventLog();
        log.Append([
            WalletChanged("alice", 1, "currency:GOLD", 100), WalletChanged("alice", 2, "item:ore", 3, 1),
            ChatPosted("lobby", 1, "alice", "hi ✓ «quoted» \"json\""), ChatEdited("lobby", 2, 1, "hello"), ChatPosted("lobby", 3, "bob", "bye"),
            ChatDeleted("lobby", 4, 3), Fill("ore-GOLD", 1, "alice", "bob", 10, 2, T0.ToOffset(India)),
            Fill("ore-GOLD", 2, "bob", "carol", 12, 1, T0.AddSeconds(75)), MatchEnded("m-1", 1, "alice", "bob"),
        ]);
        log.Rollback(new RollbackMarker(7, "ops", "bad fill", T0));
        log.Append([MatchEnded("m-2", 1, "bob", "alice", 2), Unknown("weather/1", 1)]);
        return log;
    }

    private static ViewSnapshot SampleSnapshot() => ViewSet.Rebuild(SampleLog().Records).Snapshot();

    [Fact]
    public void A_snapshot_round_trips_to_the_same_hash_as_a_rebuild_and_re_encodes_to_the_same_bytes()
    {
        var log = SampleLog();
        var snapshot = ViewSet.Rebuild(log.Records).Snapshot();

        var bytes = SnapshotCodec.Encode(snapshot);
        var decoded = SnapshotCodec.Decode(bytes);
        var restored = ViewSet.Restore(decoded);

        Assert.Equal((snapshot.Watermark, snapshot.Skipped, snapshot.Hash), (decoded.Watermark, decoded.Skipped, decoded.Hash));
        Assert.Equal(ViewSet.Rebuild(log.Records).ContentHash(), restored.ContentHash());
        Assert.Equal(bytes, SnapshotCodec.Encode(decoded));
        Assert.Equal(India, restored.Trades.For("alice")[0].At.Offset);                  // offsets survive, not just instants
        Assert.Equal(("", true), (restored.Chat.Page("lobby", 3, 1)[0].Text, restored.Chat.Page("lobby", 3, 1)[0].Deleted));
        Assert.Equal(4, restored.Profiles.Find("alice")!.InventoryCount);      // 3 available + 1 held
        Assert.StartsWith("{\"format\":\"daprgame.view-snapshot\",\"version\":1,", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_snapshot_and_a_snapshot_plus_its_tail_round_trip()
    {
        var empty = SnapshotCodec.Decode(SnapshotCodec.Encode(new ViewSet().Snapshot()));
        Assert.Equal(new ViewSet().ContentHash(), ViewSet.Restore(empty).ContentHash());

        var log = SampleLog();
        var partial = new ViewSet();
        for (var i = 0; i < 6; i++)
        {
            partial.Apply(log.Records[i], log.Records);
        }
        var restored = ViewSet.Restore(SnapshotCodec.Decode(SnapshotCodec.Encode(partial.Snapshot())));
        restored.CatchUp(log.Records);
        Assert.Equal(ViewSet.Rebuild(log.Records).ContentHash(), restored.ContentHash());
    }

    [Fact]
    public void Encoding_refuses_a_snapshot_that_does_not_match_its_hash()
    {
        var snapshot = SampleSnapshot();
        Assert.Throws<ArgumentException>(() => SnapshotCodec.Encode(snapshot with { Hash = new ViewSet().ContentHash() }));
    }

    public static TheoryData<string, string> Edits => new()
    {
        { "version 2", "\"version\":1→\"version\":2" },
        { "another format", "daprgame.view-snapshot→daprgame.other" },
        { "a view missing", "\"candles-1m\"→\"candles-5m\"" },
        { "a changed balance (hash mismatch)", "\"currency:GOLD\",100→\"currency:GOLD\",101" },
        { "a changed text (hash mismatch)", "\"hello\"→\"hullo\"" },
        { "a number as a string", "\"currency:GOLD\",100→\"currency:GOLD\",\"100\"" },
        { "a fraction", "\"currency:GOLD\",100→\"currency:GOLD\",100.5" },
        { "a missing field", ",\"skipped\":→,\"skipper\":" },
        { "a negative watermark", "\"watermark\":→\"watermark\":-" },
        { "an offset beyond 14 hours", ",330]→,3300]" },
        { "a non-boolean", "false]→0]" },
        { "a root array", "{\"format\"→[{\"format\"" },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void Malformed_input_is_refused_with_a_snapshot_format_exception(string what, string edit)
    {
        var json = Encoding.UTF8.GetString(SnapshotCodec.Encode(SampleSnapshot()));
        var (from, to) = (edit.Split('→')[0], edit.Split('→')[1]);
        Assert.Contains(from, json, StringComparison.Ordinal);
        var bad = Encoding.UTF8.GetBytes(ReplaceFirst(json, from, to));

        var e = Assert.Throws<SnapshotFormatException>(() => SnapshotCodec.Decode(bad));
        Assert.False(string.IsNullOrEmpty(e.Message), what);
    }

    [Fact]
    public void Every_truncation_and_junk_is_refused()
    {
        var bytes = SnapshotCodec.Encode(SampleSnapshot());
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<SnapshotFormatException>(() => SnapshotCodec.Decode(bytes.AsSpan(0, length)));
        }
        Assert.Throws<SnapshotFormatException>(() => SnapshotCodec.Decode("not json"u8));
        Assert.Throws<SnapshotFormatException>(() => SnapshotCodec.Decode([.. bytes, .. "{}"u8]));
        Assert.Throws<SnapshotFormatException>(() => SnapshotCodec.Decode([0xff, 0xfe, 0x00]));
    }

    [Fact]
    public void A_key_that_appears_twice_is_refused()
    {
        var json = Encoding.UTF8.GetString(SnapshotCodec.Encode(SampleSnapshot()));
        var start = json.IndexOf("\"match-history\":[", StringComparison.Ordinal) + "\"match-history\":[".Length;
        var end = json.IndexOf("],\"chat-history\"", StringComparison.Ordinal);
        var entries = json[start..end];
        var first = entries[..(FirstEntryLength(entries))];
        var doubled = json[..start] + first + "," + entries + json[end..];

        Assert.Throws<SnapshotFormatException>(() => SnapshotCodec.Decode(Encoding.UTF8.GetBytes(doubled)));
    }

    private static int FirstEntryLength(string entries)
    {
        var depth = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            depth += entries[i] switch { '[' => 1, ']' => -1, _ => 0 };
            if (depth == 0)
            {
                return i + 1;
            }
        }
        throw new InvalidOperationException("unbalanced");
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        var at = text.IndexOf(from, StringComparison.Ordinal);
        return text[..at] + to + text[(at + from.Length)..];
    }
}
