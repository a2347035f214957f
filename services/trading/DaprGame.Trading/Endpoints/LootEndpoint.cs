using Dapr;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;
using DaprGame.Trading.Actors;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;

namespace DaprGame.Trading.Endpoints;

/// <summary>
/// Combat's loot reaches wallets: <c>combat.loot.dropped.v1</c> (topic <c>combat</c>, one delivery per app through the
/// competing <c>pubsub</c> component) credits the item to the player, keyed by the loot id — a redelivery, or the same loot
/// published again after a match moved replicas, finds the key and changes nothing. Other combat events are not routed here.
/// </summary>
public static partial class LootEndpoint
{
    public const string Route = "/internal/events/combat-loot";

    // The most one drop may grant; anything above it is not loot but a bug or a forgery, and is dropped.
    private const int MaxQuantity = 1_000;

    public static IEndpointRouteBuilder MapLootConsumer(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(Route, (CombatLootDropped? loot, TradingActorClient actors, ILogger<CombatLootDropped> logger) => GrantAsync(loot, actors, logger))
            .WithTopic(new TopicOptions
            {
                PubsubName = Components.PubSub,
                Name = Topics.Combat,
                Match = $"event.type == \"{CombatLootDropped.EventType}\"",
                Priority = 1,
            })
            .ExcludeFromDescription();
        return routes;
    }

    private static async Task<IResult> GrantAsync(CombatLootDropped? loot, TradingActorClient actors, ILogger logger)
    {
        if (loot is null || !LedgerIds.IsValidPlayerId(loot.PlayerId) || !LedgerIds.IsValidItemType(loot.Item)
            || loot.Quantity is < 1 or > MaxQuantity || !LedgerIds.IsValidKey(loot.LootId))
        {
            LogDropped(logger, loot?.Id, "malformed loot");
            return Results.Ok(new { status = "DROP" });
        }
        var call = new WalletCall(loot.PlayerId, WalletOp.Credit, loot.LootId, null, AssetBundle.Items(loot.Item, loot.Quantity),
            $"loot from match {loot.MatchId}");
        // An unanswered call throws: the delivery fails and the broker redelivers it (same key, so at most one effect).
        var outcome = await actors.CallAsync<WalletCall, LedgerOutcome>(TradingActorClient.WalletType, loot.PlayerId, nameof(IWallet.ApplyAsync), call);
        if (!outcome.Ok)
        {
            // A refusal is final (an idempotency conflict, an invalid item): retrying would be refused the same way.
            LogDropped(logger, loot.Id, $"{outcome.Error}: {outcome.Message}");
            return Results.Ok(new { status = "DROP" });
        }
        return Results.Ok();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "loot event {EventId} dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, string? eventId, string reason);
}
