using DaprGame.Contracts;
using DaprGame.Contracts.Chat;
using DaprGame.Contracts.Combat;
using DaprGame.Contracts.Persistence;
using DaprGame.Contracts.Players;
using DaprGame.Contracts.Trading;

namespace DaprGame.Contracts.Tests;

/// <summary>One fixed sample per event version, with every optional field set, and the golden file it must match.</summary>
public static class Samples
{
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    /// <summary>The golden file name of an event type: its CloudEvent type.</summary>
    public static string GoldenName(Type eventType)
    {
        if (eventType == typeof(TradingTradeChanged))
        {
            // Every trading.trade.* status shares one shape, so one golden stands for all of them.
            return TradingTradeChanged.EventTypeOf("proposed");
        }
        if (eventType == typeof(ChatModerationAction))
        {
            // Every chat.moderation.* action shares one shape, so one golden stands for all of them.
            return ChatModerationAction.EventTypeOf("muted");
        }
        var constant = eventType.GetField("EventType");
        return constant?.GetRawConstantValue() as string
            ?? throw new InvalidOperationException($"{eventType.Name} has no EventType constant: every integration event names its CloudEvent type");
    }

    public static IReadOnlyDictionary<Type, IntegrationEvent> All { get; } = new Dictionary<Type, IntegrationEvent>
    {
        [typeof(ChatMessagePosted)] = new ChatMessagePosted
        {
            Id = "room-lobby:1767323045678:7", OccurredAt = At, StreamId = "chat/room-lobby", Sequence = 7,
            ChannelId = "room-lobby", Kind = ChannelKind.Room, Epoch = 1767323045678, Offset = 7,
            SenderId = "alice", ClientMessageId = "c-1", Text = "hello *** world",
        },
        [typeof(ChatMessageEdited)] = new ChatMessageEdited
        {
            Id = "group-0a1b2c3d4e5f6a7b:1767323045678:8", OccurredAt = At, StreamId = "chat/group-0a1b2c3d4e5f6a7b", Sequence = 8,
            ChannelId = "group-0a1b2c3d4e5f6a7b", Kind = ChannelKind.Group, Epoch = 1767323045678, Offset = 8,
            TargetOffset = 7, EditorId = "alice", Text = "hello again",
        },
        [typeof(ChatMessageDeleted)] = new ChatMessageDeleted
        {
            Id = "dm-alice-bob:1767323045678:9", OccurredAt = At, StreamId = "chat/dm-alice-bob", Sequence = 9,
            ChannelId = "dm-alice-bob", Kind = ChannelKind.Direct, Epoch = 1767323045678, Offset = 9,
            TargetOffset = 7, DeletedBy = "alice", Reason = "own",
        },
        [typeof(ChatMemberJoined)] = new ChatMemberJoined
        {
            Id = "group-0a1b2c3d4e5f6a7b:1767323045678:2", OccurredAt = At, StreamId = "chat/group-0a1b2c3d4e5f6a7b", Sequence = 2,
            ChannelId = "group-0a1b2c3d4e5f6a7b", Kind = ChannelKind.Group, Epoch = 1767323045678, Offset = 2,
            PlayerId = "bob", Role = ChannelRole.Moderator, InvitedBy = "alice",
        },
        [typeof(ChatMemberLeft)] = new ChatMemberLeft
        {
            Id = "room-lobby:1767323045678:10", OccurredAt = At, StreamId = "chat/room-lobby", Sequence = 10,
            ChannelId = "room-lobby", Kind = ChannelKind.Room, Epoch = 1767323045678, Offset = 10,
            PlayerId = "mallory", Reason = "banned", By = "alice",
        },
        [typeof(ChatModerationAction)] = new ChatModerationAction
        {
            Id = "room-lobby:1767323045678:mod-3", OccurredAt = At, StreamId = "chat-moderation/room-lobby", Sequence = 3,
            ChannelId = "room-lobby", Action = "muted", ActorId = "alice", TargetPlayerId = "mallory", TargetOffset = 7,
            Until = At.AddHours(1), Reason = "spam", Detail = "detail",
        },
        [typeof(TradingOrderAccepted)] = new TradingOrderAccepted
        {
            Id = "trading/book/iron-sword-GOLD:12", OccurredAt = At, StreamId = "trading/book/iron-sword-GOLD", Sequence = 12,
            Instrument = "iron-sword-GOLD", OrderId = "o-alice-c1", PlayerId = "alice", ClientOrderId = "c1",
            Side = OrderSide.Buy, Kind = OrderKind.Limit, Price = 1500, Quantity = 3, ExpiresAt = At.AddHours(1),
        },
        [typeof(TradingOrderRejected)] = new TradingOrderRejected
        {
            Id = "trading/book/iron-sword-GOLD:13", OccurredAt = At, StreamId = "trading/book/iron-sword-GOLD", Sequence = 13,
            Instrument = "iron-sword-GOLD", PlayerId = "bob", ClientOrderId = "c9", Code = "insufficient_funds", Reason = "needs 4500 GOLD, has 100",
        },
        [typeof(TradingOrderCancelled)] = new TradingOrderCancelled
        {
            Id = "trading/book/iron-sword-GOLD:14", OccurredAt = At, StreamId = "trading/book/iron-sword-GOLD", Sequence = 14,
            Instrument = "iron-sword-GOLD", OrderId = "o-alice-c1", PlayerId = "alice", Remaining = 2, Reason = "requested",
        },
        [typeof(TradingFill)] = new TradingFill
        {
            Id = "trading/book/iron-sword-GOLD:15", OccurredAt = At, StreamId = "trading/book/iron-sword-GOLD", Sequence = 15,
            Instrument = "iron-sword-GOLD", FillId = "f-iron-sword-GOLD-41", BuyerId = "alice", SellerId = "bob",
            BuyOrderId = "o-alice-c1", SellOrderId = "o-bob-s1", TakerSide = OrderSide.Sell, Price = 1500, Quantity = 1, BookSequence = 41,
        },
        [typeof(TradingBookDelta)] = new TradingBookDelta
        {
            Id = "trading/book/iron-sword-GOLD:16", OccurredAt = At, StreamId = "trading/book/iron-sword-GOLD", Sequence = 16,
            Instrument = "iron-sword-GOLD", FromSequence = 42, ToSequence = 43,
            Changes = [new DepthLevelChange(42, OrderSide.Buy, 1500, 2), new DepthLevelChange(43, OrderSide.Sell, 1600, 0)],
        },
        [typeof(TradingWalletChanged)] = new TradingWalletChanged
        {
            Id = "trading/wallet/bob:7", OccurredAt = At, StreamId = "trading/wallet/bob", Sequence = 7,
            PlayerId = "bob", Key = "settle:f-iron-sword-GOLD-41:2", FirstEntry = 19, LastEntry = 19,
            Entries = [new WalletEntryChange(19, "credit", "currency:GOLD", 1485, 0, 2485, 300, null)],
        },
        [typeof(TradingSettlementCompleted)] = new TradingSettlementCompleted
        {
            Id = "trading/settlement/f-iron-sword-GOLD-41:completed", OccurredAt = At, StreamId = "trading/settlement/f-iron-sword-GOLD-41", Sequence = 1,
            SettlementId = "f-iron-sword-GOLD-41", Kind = "fill", Parties = ["alice", "bob"], Fee = 15, FeeCurrency = "GOLD",
        },
        [typeof(TradingSettlementCompensated)] = new TradingSettlementCompensated
        {
            Id = "trading/settlement/t-alice-x1:compensated", OccurredAt = At, StreamId = "trading/settlement/t-alice-x1", Sequence = 1,
            SettlementId = "t-alice-x1", Kind = "swap", Parties = ["alice", "bob"], Reason = "credit refused: instance already owned",
        },
        [typeof(TradingTradeChanged)] = new TradingTradeChanged
        {
            Id = "trading/trade/t-alice-x1:1", OccurredAt = At, StreamId = "trading/trade/t-alice-x1", Sequence = 1,
            TradeId = "t-alice-x1", Status = "proposed", ProposerId = "alice", CounterpartyId = "bob", ActorId = "alice", Reason = "reason",
        },
        [typeof(CombatMatchCreated)] = new CombatMatchCreated
        {
            Id = "combat/match/m-1:1", OccurredAt = At, StreamId = "combat/match/m-1", Sequence = 1,
            MatchId = "m-1", OwnerId = "alice", Mode = "deathmatch", Map = "arena", TickRate = 30, Seed = 18446744073709551557,
            MaxPlayers = 8, DurationTicks = 5400, ScoreLimit = 20,
        },
        [typeof(CombatMatchStarted)] = new CombatMatchStarted
        {
            Id = "combat/match/m-1:2", OccurredAt = At, StreamId = "combat/match/m-1", Sequence = 2,
            MatchId = "m-1", Players = ["alice", "bob"], Address = "ws://combat-0.combat:8080/match",
        },
        [typeof(CombatPlayerKilled)] = new CombatPlayerKilled
        {
            Id = "combat/match/m-1:3", OccurredAt = At, StreamId = "combat/match/m-1", Sequence = 3,
            MatchId = "m-1", Tick = 412, VictimId = "bob", KillerId = "alice", Weapon = "blaster",
        },
        [typeof(CombatLootDropped)] = new CombatLootDropped
        {
            Id = "combat/match/m-1:4", OccurredAt = At, StreamId = "combat/match/m-1", Sequence = 4,
            MatchId = "m-1", LootId = "loot:m-1:412:0", Tick = 412, PlayerId = "alice", Item = "iron-sword", Quantity = 1,
        },
        [typeof(CombatCheatFlagged)] = new CombatCheatFlagged
        {
            Id = "combat/match/m-1:5", OccurredAt = At, StreamId = "combat/match/m-1", Sequence = 5,
            MatchId = "m-1", Tick = 900, PlayerId = "mallory", Reason = "clampedSpeed", Count = 3,
        },
        [typeof(CombatMatchEnded)] = new CombatMatchEnded
        {
            Id = "combat/match/m-1:6", OccurredAt = At, StreamId = "combat/match/m-1", Sequence = 6,
            MatchId = "m-1", Reason = "score_limit", Ticks = 5123, FinalHash = "9f86d081884c7d65",
            Players = [new CombatPlayerResult("alice", 0, 20, 20, 3, 2400), new CombatPlayerResult("bob", 1, 7, 7, 20, 900)],
            Winners = ["alice"],
        },
        [typeof(PlayerSessionRevoked)] = new PlayerSessionRevoked
        {
            Id = "player/alice:session-1:revoked", OccurredAt = At, StreamId = "player/alice", Sequence = 4,
            PlayerId = "alice", SessionId = "session-1", Reason = "logout",
        },
        [typeof(PersistenceEventReplayed)] = new PersistenceEventReplayed
        {
            Id = "replay-20260102030405678-0a1b2c3d4e5f:12", OccurredAt = At, StreamId = "trading/wallet/bob", Sequence = 3,
            ReplayId = "replay-20260102030405678-0a1b2c3d4e5f", Position = 12, OriginalId = "trading/wallet/bob:7",
            OriginalType = "trading.wallet.changed.v1", RolledBack = false,
            Data = System.Text.Json.JsonDocument.Parse("""{"id":"trading/wallet/bob:7","playerId":"bob"}""").RootElement.Clone(),
        },
    };
}
