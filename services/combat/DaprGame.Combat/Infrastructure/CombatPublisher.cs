using System.Text.Json;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;
using DaprGame.Hosting;

namespace DaprGame.Combat.Infrastructure;

/// <summary>
/// An integration event as an outbox keeps it until the broker has it: serialized once, with its CloudEvent type, so
/// every kind sits in one list of actor state.
/// </summary>
public sealed record StoredEvent(string Id, string Type, JsonElement Data)
{
    public static StoredEvent Of(IntegrationEvent evt) =>
        new(evt.Id, TypeOf(evt), JsonSerializer.SerializeToElement(evt, evt.GetType(), ServiceDefaults.JsonOptions));

    public static string TypeOf(IntegrationEvent evt) => evt switch
    {
        CombatMatchCreated => CombatMatchCreated.EventType,
        CombatMatchStarted => CombatMatchStarted.EventType,
        CombatMatchEnded => CombatMatchEnded.EventType,
        CombatPlayerKilled => CombatPlayerKilled.EventType,
        CombatLootDropped => CombatLootDropped.EventType,
        CombatCheatFlagged => CombatCheatFlagged.EventType,
        _ => throw new ArgumentOutOfRangeException(nameof(evt), evt.GetType().Name, "not a combat event"),
    };
}

/// <summary>Where combat's integration events leave the service (topic <see cref="Topics.Combat"/>).</summary>
public interface ICombatPublisher
{
    Task PublishAsync(StoredEvent evt, CancellationToken cancellationToken);
}

/// <summary>Publishes through the sidecar; the CloudEvent id is the event id, so a republish is recognisable.</summary>
public sealed class DaprCombatPublisher(DaprClient dapr) : ICombatPublisher
{
    public Task PublishAsync(StoredEvent evt, CancellationToken cancellationToken) =>
        dapr.PublishEventAsync(Components.PubSub, Topics.Combat, evt.Data, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["cloudevent.type"] = evt.Type,
            ["cloudevent.id"] = evt.Id,
        }, cancellationToken);
}
