using System.Text.Json;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Trading;
using DaprGame.Hosting;

namespace DaprGame.Trading.Infrastructure;

/// <summary>
/// An integration event as an actor's outbox keeps it until the broker has it: serialized once, with its CloudEvent
/// type and topic, so any event kind sits in one list of actor state.
/// </summary>
public sealed record StoredEvent(string Id, string Type, string Topic, JsonElement Data)
{
    public static StoredEvent Of(IntegrationEvent evt) => new(
        evt.Id,
        TypeOf(evt),
        evt is TradingBookDelta ? Topics.TradingMarket : Topics.Trading,
        JsonSerializer.SerializeToElement(evt, evt.GetType(), ServiceDefaults.JsonOptions));

    /// <summary>The CloudEvent type of a trading event.</summary>
    public static string TypeOf(IntegrationEvent evt) => evt switch
    {
        TradingOrderAccepted => TradingOrderAccepted.EventType,
        TradingOrderRejected => TradingOrderRejected.EventType,
        TradingOrderCancelled => TradingOrderCancelled.EventType,
        TradingFill => TradingFill.EventType,
        TradingBookDelta => TradingBookDelta.EventType,
        TradingSettlementCompleted => TradingSettlementCompleted.EventType,
        TradingSettlementCompensated => TradingSettlementCompensated.EventType,
        TradingTradeChanged t => TradingTradeChanged.EventTypeOf(t.Status),
        TradingWalletChanged => TradingWalletChanged.EventType,
        _ => throw new ArgumentOutOfRangeException(nameof(evt), evt.GetType().Name, "not a trading event"),
    };
}

/// <summary>Where trading's integration events leave the service. Actors publish only after their state is saved.</summary>
public interface ITradingPublisher
{
    Task PublishAsync(StoredEvent evt, CancellationToken cancellationToken);
}

/// <summary>Publishes through the sidecar's pub/sub API; the CloudEvent id is the event id, so a republish is recognisable.</summary>
public sealed class DaprTradingPublisher(DaprClient dapr) : ITradingPublisher
{
    public Task PublishAsync(StoredEvent evt, CancellationToken cancellationToken) =>
        dapr.PublishEventAsync(Components.PubSub, evt.Topic, evt.Data, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["cloudevent.type"] = evt.Type,
            ["cloudevent.id"] = evt.Id,
        }, cancellationToken);
}
