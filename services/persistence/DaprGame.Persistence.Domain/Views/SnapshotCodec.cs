using System.Collections.Immutable;
using System.Text.Json;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>A stored snapshot that cannot be read back: bad JSON, a missing or mistyped field, an unknown version, or
/// content that no longer matches its hash. Nothing is half-built when this is thrown.</summary>
public sealed class SnapshotFormatException : FormatException
{
    public SnapshotFormatException()
    {
    }

    public SnapshotFormatException(string message) : base(message)
    {
    }

    public SnapshotFormatException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>
/// The stored form of a <see cref="ViewSnapshot"/>: UTF-8 JSON, versioned, written with the reader/writer only (no
/// serializer attributes in the domain). Layout of version 1 — never change it; add a version instead:
/// <code>
/// {"format":"daprgame.view-snapshot","version":1,"watermark":W,"skipped":S,"hash":"hex",
///  "views":{
///   "player-profiles":[[playerId, matches, wins, kills, deaths, score, [[asset, available, held, entrySequence], …]], …],
///   "match-history":  [[playerId, [[matchId, endedAt, reason, team, score, kills, deaths, won], …]], …],
///   "chat-history":   [[channelId, [[key, offset, senderId, text, postedAt, edited, deleted], …]], …],
///   "trade-history":  [[playerId, [[fillId, instrument, side, price, quantity, counterparty, at], …]], …],
///   "candles-1m":     [[instrument, [[minute, start, open, high, low, close, volume, trades], …]], …]}}
/// </code>
/// Entries are positional arrays because a snapshot of a busy game is megabytes; a time is <c>[utcTicks, offsetMinutes]</c>
/// so it round-trips exactly. <see cref="Decode"/> rebuilds each view with its state constructor and checks the result
/// with <see cref="ViewSet.Restore"/> (layout and content hash) before returning it.
/// </summary>
public static class SnapshotCodec
{
    public const string Format = "daprgame.view-snapshot";

    public const int Version = 1;

    public static byte[] Encode(ViewSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var views = ViewSet.Restore(snapshot);      // refuses a snapshot whose layout or hash is off: never store one
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteNumber("watermark", snapshot.Watermark);
            w.WriteNumber("skipped", snapshot.Skipped);
            w.WriteString("hash", snapshot.Hash);
            w.WriteStartObject("views");
            WriteProfiles(w, views.Profiles);
            WriteMatches(w, views.Matches);
            WriteChat(w, views.Chat);
            WriteTrades(w, views.Trades);
            WriteCandles(w, views.Candles);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <exception cref="SnapshotFormatException">The bytes are not a version-1 snapshot, or its content does not match its hash.</exception>
    public static ViewSnapshot Decode(ReadOnlySpan<byte> encoded)
    {
        ViewSnapshot snapshot;
        try
        {
            var reader = new Utf8JsonReader(encoded, new JsonReaderOptions { MaxDepth = 16 });
            using var document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                throw Bad("data follows the snapshot");
            }
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Bad("the root is not an object");
            }
            if (Str(Prop(root, "format")) != Format)
            {
                throw Bad("not a view snapshot");
            }
            var version = Long(Prop(root, "version"));
            if (version != Version)
            {
                throw Bad($"unsupported snapshot version {version}");
            }
            var views = Prop(root, "views");
            if (views.ValueKind != JsonValueKind.Object)
            {
                throw Bad("'views' is not an object");
            }
            View[] decoded =
            [
                ReadProfiles(Prop(views, "player-profiles")),
                ReadMatches(Prop(views, "match-history")),
                ReadChat(Prop(views, "chat-history")),
                ReadTrades(Prop(views, "trade-history")),
                ReadCandles(Prop(views, "candles-1m")),
            ];
            snapshot = new ViewSnapshot(Long(Prop(root, "watermark")), Long(Prop(root, "skipped")), decoded, Str(Prop(root, "hash")));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or OverflowException)
        {
            throw new SnapshotFormatException($"not a readable view snapshot: {e.Message}", e);
        }

        if (snapshot.Watermark < 0 || snapshot.Skipped < 0)
        {
            throw Bad("watermark and skipped count cannot be negative");
        }
        try
        {
            ViewSet.Restore(snapshot);
        }
        catch (ArgumentException e)
        {
            throw new SnapshotFormatException(e.Message, e);
        }
        return snapshot;
    }

    private static void WriteProfiles(Utf8JsonWriter w, PlayerProfilesView view)
    {
        w.WriteStartArray(view.Name);
        foreach (var (id, p) in view.State)
        {
            w.WriteStartArray();
            w.WriteStringValue(id);
            w.WriteNumberValue(p.Matches);
            w.WriteNumberValue(p.Wins);
            w.WriteNumberValue(p.Kills);
            w.WriteNumberValue(p.Deaths);
            w.WriteNumberValue(p.Score);
            w.WriteStartArray();
            foreach (var (asset, b) in p.Assets)
            {
                w.WriteStartArray();
                w.WriteStringValue(asset);
                w.WriteNumberValue(b.Available);
                w.WriteNumberValue(b.Held);
                w.WriteNumberValue(b.EntrySequence);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static void WriteMatches(Utf8JsonWriter w, MatchHistoryView view)
    {
        w.WriteStartArray(view.Name);
        foreach (var (player, matches) in view.State)
        {
            w.WriteStartArray();
            w.WriteStringValue(player);
            w.WriteStartArray();
            foreach (var m in matches)
            {
                w.WriteStartArray();
                w.WriteStringValue(m.MatchId);
                WriteTime(w, m.EndedAt);
                w.WriteStringValue(m.Reason);
                w.WriteNumberValue(m.Team);
                w.WriteNumberValue(m.Score);
                w.WriteNumberValue(m.Kills);
                w.WriteNumberValue(m.Deaths);
                w.WriteBooleanValue(m.Won);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static void WriteChat(Utf8JsonWriter w, ChatHistoryView view)
    {
        w.WriteStartArray(view.Name);
        foreach (var (channel, messages) in view.State)
        {
            w.WriteStartArray();
            w.WriteStringValue(channel);
            w.WriteStartArray();
            foreach (var (offset, m) in messages)
            {
                w.WriteStartArray();
                w.WriteNumberValue(offset);
                w.WriteNumberValue(m.Offset);
                w.WriteStringValue(m.SenderId);
                w.WriteStringValue(m.Text);
                WriteTime(w, m.PostedAt);
                w.WriteBooleanValue(m.Edited);
                w.WriteBooleanValue(m.Deleted);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static void WriteTrades(Utf8JsonWriter w, TradeHistoryView view)
    {
        w.WriteStartArray(view.Name);
        foreach (var (player, trades) in view.State)
        {
            w.WriteStartArray();
            w.WriteStringValue(player);
            w.WriteStartArray();
            foreach (var t in trades)
            {
                w.WriteStartArray();
                w.WriteStringValue(t.FillId);
                w.WriteStringValue(t.Instrument);
                w.WriteStringValue(t.Side);
                w.WriteNumberValue(t.Price);
                w.WriteNumberValue(t.Quantity);
                w.WriteStringValue(t.Counterparty);
                WriteTime(w, t.At);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static void WriteCandles(Utf8JsonWriter w, CandlesView view)
    {
        w.WriteStartArray(view.Name);
        foreach (var (instrument, candles) in view.State)
        {
            w.WriteStartArray();
            w.WriteStringValue(instrument);
            w.WriteStartArray();
            foreach (var (minute, c) in candles)
            {
                w.WriteStartArray();
                w.WriteNumberValue(minute);
                WriteTime(w, c.Start);
                w.WriteNumberValue(c.Open);
                w.WriteNumberValue(c.High);
                w.WriteNumberValue(c.Low);
                w.WriteNumberValue(c.Close);
                w.WriteNumberValue(c.Volume);
                w.WriteNumberValue(c.Trades);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static void WriteTime(Utf8JsonWriter w, DateTimeOffset value)
    {
        w.WriteStartArray();
        w.WriteNumberValue(value.UtcTicks);
        w.WriteNumberValue((long)value.Offset.TotalMinutes);
        w.WriteEndArray();
    }

    private static PlayerProfilesView ReadProfiles(JsonElement array)
    {
        var state = new List<KeyValuePair<string, PlayerProfile>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in Items(array))
        {
            var f = Tuple(entry, 7);
            var id = Str(f[0]);
            var assets = ImmutableSortedDictionary.CreateBuilder<string, AssetBalance>(StringComparer.Ordinal);
            foreach (var asset in Items(f[6]))
            {
                var a = Tuple(asset, 4);
                assets.Add(Str(a[0]), new AssetBalance(Long(a[1]), Long(a[2]), Long(a[3])));
            }
            Unique(seen, id);
            state.Add(new(id, new PlayerProfile(id, assets.ToImmutable(), Int(f[1]), Int(f[2]), Long(f[3]), Long(f[4]), Long(f[5]))));
        }
        return new PlayerProfilesView(state);
    }

    private static MatchHistoryView ReadMatches(JsonElement array)
    {
        var state = new List<KeyValuePair<string, ImmutableList<MatchEntry>>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in Items(array))
        {
            var f = Tuple(entry, 2);
            var matches = ImmutableList.CreateBuilder<MatchEntry>();
            foreach (var match in Items(f[1]))
            {
                var m = Tuple(match, 8);
                matches.Add(new MatchEntry(Str(m[0]), Time(m[1]), Str(m[2]), Long(m[3]), Long(m[4]), Long(m[5]), Long(m[6]), Bool(m[7])));
            }
            var player = Str(f[0]);
            Unique(seen, player);
            state.Add(new(player, matches.ToImmutable()));
        }
        return new MatchHistoryView(state);
    }

    private static ChatHistoryView ReadChat(JsonElement array)
    {
        var state = new List<KeyValuePair<string, ImmutableSortedDictionary<long, ChatMessage>>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in Items(array))
        {
            var f = Tuple(entry, 2);
            var messages = ImmutableSortedDictionary.CreateBuilder<long, ChatMessage>();
            foreach (var message in Items(f[1]))
            {
                var m = Tuple(message, 7);
                messages.Add(Long(m[0]), new ChatMessage(Long(m[1]), Str(m[2]), Str(m[3]), Time(m[4]), Bool(m[5]), Bool(m[6])));
            }
            var channel = Str(f[0]);
            Unique(seen, channel);
            state.Add(new(channel, messages.ToImmutable()));
        }
        return new ChatHistoryView(state);
    }

    private static TradeHistoryView ReadTrades(JsonElement array)
    {
        var state = new List<KeyValuePair<string, ImmutableList<TradeEntry>>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in Items(array))
        {
            var f = Tuple(entry, 2);
            var trades = ImmutableList.CreateBuilder<TradeEntry>();
            foreach (var trade in Items(f[1]))
            {
                var t = Tuple(trade, 7);
                trades.Add(new TradeEntry(Str(t[0]), Str(t[1]), Str(t[2]), Long(t[3]), Long(t[4]), Str(t[5]), Time(t[6])));
            }
            var player = Str(f[0]);
            Unique(seen, player);
            state.Add(new(player, trades.ToImmutable()));
        }
        return new TradeHistoryView(state);
    }

    private static CandlesView ReadCandles(JsonElement array)
    {
        var state = new List<KeyValuePair<string, ImmutableSortedDictionary<long, MinuteCandle>>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in Items(array))
        {
            var f = Tuple(entry, 2);
            var candles = ImmutableSortedDictionary.CreateBuilder<long, MinuteCandle>();
            foreach (var candle in Items(f[1]))
            {
                var c = Tuple(candle, 8);
                candles.Add(Long(c[0]), new MinuteCandle(Time(c[1]), Long(c[2]), Long(c[3]), Long(c[4]), Long(c[5]), Long(c[6]), Long(c[7])));
            }
            var instrument = Str(f[0]);
            Unique(seen, instrument);
            state.Add(new(instrument, candles.ToImmutable()));
        }
        return new CandlesView(state);
    }

    private static void Unique(HashSet<string> seen, string key)
    {
        if (!seen.Add(key))
        {
            throw Bad($"key '{key}' appears twice");
        }
    }

    private static JsonElement Prop(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value : throw Bad($"'{name}' is missing");

    private static JsonElement.ArrayEnumerator Items(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray() : throw Bad("an array was expected");

    private static JsonElement[] Tuple(JsonElement e, int length)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != length)
        {
            throw Bad($"an entry of {length} fields was expected");
        }
        var fields = new JsonElement[length];
        var i = 0;
        foreach (var field in e.EnumerateArray())
        {
            fields[i++] = field;
        }
        return fields;
    }

    private static string Str(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad("a string was expected");

    private static long Long(JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) ? v : throw Bad("an integer was expected");

    private static int Int(JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : throw Bad("a 32-bit integer was expected");

    private static bool Bool(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Bad("a boolean was expected"),
    };

    private static DateTimeOffset Time(JsonElement e)
    {
        var t = Tuple(e, 2);
        var offset = TimeSpan.FromMinutes(Long(t[1]));
        return new DateTimeOffset(Long(t[0]), TimeSpan.Zero).ToOffset(offset);
    }

    private static SnapshotFormatException Bad(string message) => new(message);
}
