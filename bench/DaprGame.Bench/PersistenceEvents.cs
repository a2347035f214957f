using System.Text.Json;
using DaprGame.Contracts;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Bench;

/// <summary>
/// The four event kinds the persistence views fold, with the data shapes of
/// <c>tests/DaprGame.Persistence.Domain.Tests/TestEvents.cs</c> (the services' envelope fields merged into the data):
/// a chat post, a wallet change, a fill and a match result. Each kind lives on the topic its service publishes it to,
/// so the ingest runs over several of the service's bulk subscriptions, as in production.
/// </summary>
internal static class PersistenceEvents
{
    public const string ChatPosted = "chat.message.posted.v1";
    public const string WalletChanged = "trading.wallet.changed.v1";
    public const string Fill = "trading.fill.v1";
    public const string MatchEnded = "combat.match.ended.v1";

    /// <summary>Event type → the topic it is published on.</summary>
    public static readonly (string Type, string Topic)[] Kinds =
    [
        (ChatPosted, Topics.Chat),
        (WalletChanged, Topics.Trading),
        (Fill, Topics.TradingMarket),
        (MatchEnded, Topics.Combat),
    ];

    public static string StreamOf(string type, int key) => type switch
    {
        ChatPosted => $"chat/room-{key}",
        WalletChanged => $"trading/wallet/p{key}",
        Fill => $"trading/book/item{key}-GOLD",
        _ => $"combat/match/m{key}",
    };

    /// <summary>
    /// The event's data as the service receives it: the payload plus <c>id</c>, <c>occurredAt</c>, <c>streamId</c> and
    /// <c>sequence</c>. <paramref name="key"/> picks the channel, player, instrument or match; <paramref name="salt"/>
    /// varies the players named. About 300–450 bytes each.
    /// </summary>
    public static byte[] Data(string type, int key, long sequence, DateTimeOffset occurredAt, int salt, int players)
    {
        var stream = StreamOf(type, key);
        var buffer = new MemoryStream(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            var a = $"p{(salt * 7919 + 13) % players}";
            var b = $"p{(salt * 104_729 + 71) % players}";
            switch (type)
            {
                case ChatPosted:
                    w.WriteString("channelId", $"room-{key}");
                    w.WriteString("kind", "room");
                    w.WriteNumber("epoch", 1);
                    w.WriteNumber("offset", sequence);
                    w.WriteString("senderId", a);
                    w.WriteString("clientMessageId", $"c-{salt}-{sequence}");
                    w.WriteString("text", "gg, anyone up for a rematch on the north bridge? bring potions and a spare shield");
                    break;
                case WalletChanged:
                    w.WriteString("playerId", $"p{key}");
                    w.WriteString("key", $"k-{sequence}");
                    w.WriteNumber("firstEntry", sequence);
                    w.WriteNumber("lastEntry", sequence);
                    w.WriteStartArray("entries");
                    w.WriteStartObject();
                    w.WriteNumber("sequence", sequence);
                    w.WriteString("kind", "credit");
                    w.WriteString("asset", "GOLD");
                    w.WriteNumber("deltaAvailable", 5);
                    w.WriteNumber("deltaHeld", 0);
                    w.WriteNumber("availableAfter", 1_000 + sequence * 5);
                    w.WriteNumber("heldAfter", 0);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    break;
                case Fill:
                    w.WriteString("instrument", $"item{key}-GOLD");
                    w.WriteString("fillId", $"f-{key}-{sequence}");
                    w.WriteString("buyerId", a);
                    w.WriteString("sellerId", b);
                    w.WriteString("buyOrderId", $"o-b-{salt}");
                    w.WriteString("sellOrderId", $"o-s-{salt}");
                    w.WriteString("takerSide", (salt & 1) == 0 ? "sell" : "buy");
                    w.WriteNumber("price", 1_000 + salt % 7);
                    w.WriteNumber("quantity", 1 + salt % 5);
                    w.WriteNumber("bookSequence", sequence);
                    break;
                default:
                    w.WriteString("matchId", $"m{key}");
                    w.WriteString("reason", "score_limit");
                    w.WriteNumber("ticks", 5_400);
                    w.WriteString("finalHash", "9f1c2e7a");
                    w.WriteStartArray("players");
                    foreach (var (player, team, kills) in new[] { (a, 0, 5), (b, 1, 2) })
                    {
                        w.WriteStartObject();
                        w.WriteString("playerId", player);
                        w.WriteNumber("team", team);
                        w.WriteNumber("score", kills);
                        w.WriteNumber("kills", kills);
                        w.WriteNumber("deaths", 7 - kills);
                        w.WriteNumber("damageDealt", kills * 20);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteStartArray("winners");
                    w.WriteStringValue(a);
                    w.WriteEndArray();
                    break;
            }
            w.WriteString("id", $"{stream}:{sequence}");
            w.WriteString("occurredAt", occurredAt);
            w.WriteString("streamId", stream);
            w.WriteNumber("sequence", sequence);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// <paramref name="count"/> records of a realistic mix (40 % chat posts over 256 channels, 30 % wallet changes over
    /// 10,000 players, 20 % fills over 16 instruments, 10 % match results, each match its own stream), appended through
    /// <see cref="EventLog"/> in batches of 1,000 so every record is planned, hashed and chained as the service does it.
    /// </summary>
    public static IReadOnlyList<LogRecord> SyntheticLog(int count, int seed)
    {
        const int Channels = 256, Players = 10_000, Instruments = 16;
        var random = new Random(seed);
        var log = new EventLog();
        var sequences = new Dictionary<string, long>(StringComparer.Ordinal);
        var t0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var batch = new List<IncomingEvent>(1_000);
        var matches = 0;
        for (var i = 0; i < count; i++)
        {
            var roll = random.Next(10);
            var (type, key) = roll switch
            {
                < 4 => (ChatPosted, random.Next(Channels)),
                < 7 => (WalletChanged, random.Next(Players)),
                < 9 => (Fill, random.Next(Instruments)),
                _ => (MatchEnded, matches++),
            };
            var stream = StreamOf(type, key);
            var sequence = sequences[stream] = sequences.GetValueOrDefault(stream) + 1;
            var at = t0.AddMilliseconds(i * 3L);
            batch.Add(new IncomingEvent($"{stream}:{sequence}", type, stream, sequence, at, Data(type, key, sequence, at, i, Players)));
            if (batch.Count == 1_000)
            {
                log.Append(batch);
                batch.Clear();
            }
        }
        if (batch.Count > 0)
        {
            log.Append(batch);
        }
        return log.Records;
    }
}
