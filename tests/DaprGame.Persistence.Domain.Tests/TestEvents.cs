using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Tests;

/// <summary>Incoming events shaped like the golden files in <c>tests/DaprGame.Contracts.Tests/Golden</c>.</summary>
internal static class TestEvents
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 0, TimeSpan.Zero);

    public static IncomingEvent ChatPosted(string channel, long sequence, string sender, string text, DateTimeOffset? at = null) =>
        Make("chat.message.posted.v1", $"chat/{channel}", sequence, at, new
        {
            ChannelId = channel, Kind = "room", Epoch = 1, Offset = sequence, SenderId = sender, ClientMessageId = $"c-{sequence}", Text = text,
        });

    public static IncomingEvent ChatEdited(string channel, long sequence, long target, string text) =>
        Make("chat.message.edited.v1", $"chat/{channel}", sequence, null, new
        {
            ChannelId = channel, Kind = "room", Epoch = 1, Offset = sequence, TargetOffset = target, EditorId = "mod", Text = text,
        });

    public static IncomingEvent ChatDeleted(string channel, long sequence, long target) =>
        Make("chat.message.deleted.v1", $"chat/{channel}", sequence, null, new
        {
            ChannelId = channel, Kind = "room", Epoch = 1, Offset = sequence, TargetOffset = target, DeletedBy = "mod", Reason = "own",
        });

    public static IncomingEvent WalletChanged(string player, long sequence, string asset, long available, long held = 0) =>
        Make("trading.wallet.changed.v1", $"trading/wallet/{player}", sequence, null, new
        {
            PlayerId = player, Key = $"k-{sequence}", FirstEntry = sequence, LastEntry = sequence,
            Entries = new[]
            {
                new { Sequence = sequence, Kind = "credit", Asset = asset, DeltaAvailable = 1, DeltaHeld = 0, AvailableAfter = available, HeldAfter = held },
            },
        });

    public static IncomingEvent Fill(string instrument, long sequence, string buyer, string seller, long price, long quantity, DateTimeOffset at) =>
        Make("trading.fill.v1", $"trading/book/{instrument}", sequence, at, new
        {
            Instrument = instrument, FillId = $"f-{instrument}-{sequence}", BuyerId = buyer, SellerId = seller, BuyOrderId = "o-b",
            SellOrderId = "o-s", TakerSide = "sell", Price = price, Quantity = quantity, BookSequence = sequence,
        });

    public static IncomingEvent MatchEnded(string matchId, long sequence, string winner, string loser, int winnerKills = 5) =>
        Make("combat.match.ended.v1", $"combat/match/{matchId}", sequence, null, new
        {
            MatchId = matchId, Reason = "score_limit", Ticks = 100, FinalHash = "00",
            Players = new[]
            {
                new { PlayerId = winner, Team = 0, Score = winnerKills, Kills = winnerKills, Deaths = 1, DamageDealt = 100 },
                new { PlayerId = loser, Team = 1, Score = 1, Kills = 1, Deaths = winnerKills, DamageDealt = 10 },
            },
            Winners = new[] { winner },
        });

    public static IncomingEvent Unknown(string stream, long sequence) =>
        Make("weather.rain.started.v1", stream, sequence, null, new { Intensity = 3 });

    private static IncomingEvent Make(string type, string stream, long sequence, DateTimeOffset? at, object payload)
    {
        var occurredAt = at ?? T0.AddSeconds(sequence);
        var data = JsonSerializer.SerializeToUtf8Bytes(payload, JsonSerializerOptions.Web);
        // Merge the IntegrationEvent envelope fields into the data, as the services publish them.
        using var doc = JsonDocument.Parse(data);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                property.WriteTo(writer);
            }
            writer.WriteString("id", $"{stream}:{sequence}");
            writer.WriteString("occurredAt", occurredAt);
            writer.WriteString("streamId", stream);
            writer.WriteNumber("sequence", sequence);
            writer.WriteEndObject();
        }
        return new IncomingEvent($"{stream}:{sequence}", type, stream, sequence, occurredAt, buffer.ToArray());
    }
}
