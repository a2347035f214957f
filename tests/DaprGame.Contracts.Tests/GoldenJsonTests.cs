using System.Text.Json;
using System.Text.Json.Nodes;
using DaprGame.Contracts;
using DaprGame.Contracts.Chat;
using DaprGame.Hosting;

namespace DaprGame.Contracts.Tests;

/// <summary>
/// Contracts are append-only: each event version's JSON (as it goes on the wire, with <see cref="ServiceDefaults.JsonOptions"/>)
/// is pinned by a golden file under <c>Golden/</c>. A renamed, removed or retyped field fails here.
/// </summary>
public sealed class GoldenJsonTests
{
    public static TheoryData<string> EventTypes() => [.. Samples.All.Keys.Select(t => t.FullName!)];

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void Serializing_the_sample_equals_the_golden(string typeName)
    {
        var (type, sample) = Sample(typeName);
        var json = JsonSerializer.Serialize(sample, WireType(type), ServiceDefaults.JsonOptions);

        var golden = JsonNode.Parse(ReadGolden(type));
        Assert.True(JsonNode.DeepEquals(golden, JsonNode.Parse(json)), $"{type.Name} serializes differently from {Samples.GoldenName(type)}.json:\n{json}");
    }

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void Deserializing_the_golden_equals_the_sample(string typeName)
    {
        var (type, sample) = Sample(typeName);

        var read = JsonSerializer.Deserialize(ReadGolden(type), WireType(type), ServiceDefaults.JsonOptions);

        Assert.IsType(type, read);
        Assert.Equal(sample, read);
    }

    [Fact]
    public void Channel_events_round_trip_through_the_base_type_keeping_their_type()
    {
        foreach (var sample in Samples.All.Values.OfType<ChannelEvent>())
        {
            var json = JsonSerializer.Serialize(sample, ServiceDefaults.JsonOptions);
            var node = JsonNode.Parse(json)!.AsObject();
            var expectedType = sample.GetType().GetField("EventType")!.GetRawConstantValue();
            Assert.Equal(expectedType, node["type"]!.GetValue<string>());

            var back = JsonSerializer.Deserialize<ChannelEvent>(json, ServiceDefaults.JsonOptions);
            Assert.Equal(sample, back);
            Assert.Equal(sample.GetType(), back!.GetType());
        }
    }

    [Fact]
    public void A_history_page_carries_each_event_type()
    {
        var events = Samples.All.Values.OfType<ChannelEvent>().ToList();
        var page = new HistoryPage("room-lobby", 1, 10, 1, false, events);

        var json = JsonNode.Parse(JsonSerializer.Serialize(page, ServiceDefaults.JsonOptions))!;

        var types = json["events"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(events.Select(e => e.GetType().GetField("EventType")!.GetRawConstantValue()), types);
    }

    [Fact]
    public void Every_integration_event_in_the_contracts_has_a_sample_and_a_golden_file()
    {
        var eventTypes = typeof(IntegrationEvent).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(IntegrationEvent)) && !t.IsAbstract)
            .ToList();
        Assert.NotEmpty(eventTypes);
        foreach (var type in eventTypes)
        {
            Assert.True(Samples.All.ContainsKey(type), $"{type.Name} has no sample in Samples.All");
            var path = GoldenPath(type);
            Assert.True(File.Exists(path), $"{type.Name} has no golden file {Samples.GoldenName(type)}.json");
        }
    }

    [Fact]
    public void Unknown_fields_are_ignored_by_readers()
    {
        var json = JsonNode.Parse(ReadGolden(typeof(ChatMessagePosted)))!.AsObject();
        json["addedLater"] = "a future field";

        var read = JsonSerializer.Deserialize<ChannelEvent>(json.ToJsonString(), ServiceDefaults.JsonOptions);

        Assert.Equal(Samples.All[typeof(ChatMessagePosted)], read);
    }

    /// <summary>Channel events go on the wire as <see cref="ChannelEvent"/>, so their golden holds the <c>type</c> discriminator.</summary>
    private static Type WireType(Type type) => type.IsSubclassOf(typeof(ChannelEvent)) ? typeof(ChannelEvent) : type;

    private static (Type Type, IntegrationEvent Sample) Sample(string typeName)
    {
        var type = Samples.All.Keys.Single(t => t.FullName == typeName);
        return (type, Samples.All[type]);
    }

    private static string GoldenPath(Type type) => Path.Combine(AppContext.BaseDirectory, "Golden", Samples.GoldenName(type) + ".json");

    private static string ReadGolden(Type type) => File.ReadAllText(GoldenPath(type));
}

/// <summary>A subscriber that sees only an event's data still tells every trading event apart, and whom it concerns.</summary>
public sealed class TradingEventShapeTests
{
    [Fact]
    public void Every_trading_golden_is_recognised_as_its_own_type()
    {
        var trading = Samples.All.Where(s => s.Key.Namespace == typeof(DaprGame.Contracts.Trading.TradingFill).Namespace).ToList();
        Assert.Equal(9, trading.Count);
        foreach (var (type, sample) in trading)
        {
            var json = JsonSerializer.SerializeToElement(sample, type, ServiceDefaults.JsonOptions);
            Assert.Equal(Samples.GoldenName(type), DaprGame.Contracts.Trading.TradingEventShapes.TypeOf(json));
        }
        foreach (var chat in Samples.All.Where(s => s.Key.Namespace != typeof(DaprGame.Contracts.Trading.TradingFill).Namespace))
        {
            Assert.Null(DaprGame.Contracts.Trading.TradingEventShapes.TypeOf(JsonSerializer.SerializeToElement(chat.Value, chat.Key, ServiceDefaults.JsonOptions)));
        }
    }

    [Fact]
    public void The_players_of_an_event_are_its_owner_or_parties()
    {
        var fill = JsonSerializer.SerializeToElement(Samples.All[typeof(DaprGame.Contracts.Trading.TradingFill)], typeof(DaprGame.Contracts.Trading.TradingFill), ServiceDefaults.JsonOptions);
        Assert.Equal(["alice", "bob"], DaprGame.Contracts.Trading.TradingEventShapes.PlayersOf(fill));
        var delta = JsonSerializer.SerializeToElement(Samples.All[typeof(DaprGame.Contracts.Trading.TradingBookDelta)], typeof(DaprGame.Contracts.Trading.TradingBookDelta), ServiceDefaults.JsonOptions);
        Assert.Empty(DaprGame.Contracts.Trading.TradingEventShapes.PlayersOf(delta));
    }
}
