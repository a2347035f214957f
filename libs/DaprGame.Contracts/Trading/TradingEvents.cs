namespace DaprGame.Contracts.Trading;

/// <summary>Buy or sell.</summary>
public enum OrderSide
{
    Buy,
    Sell,
}

/// <summary>
/// Order types: <c>Limit</c> rests until filled or cancelled (good till cancelled); <c>Market</c> takes what is there
/// up to its protection price and cancels the rest; <c>ImmediateOrCancel</c> is a limit that never rests;
/// <c>FillOrKill</c> fills whole at once or not at all; <c>PostOnly</c> only rests (refused if it would cross).
/// </summary>
public enum OrderKind
{
    Limit,
    Market,
    ImmediateOrCancel,
    FillOrKill,
    PostOnly,
}

/// <summary>
/// An order passed validation and its hold (the buyer's currency, the seller's items) is in place. Stream
/// <c>trading/book/{instrument}</c>; <see cref="IntegrationEvent.Sequence"/> counts that book's events.
/// </summary>
public sealed record TradingOrderAccepted : IntegrationEvent
{
    public const string EventType = "trading.order.accepted.v1";

    public required string Instrument { get; init; }

    public required string OrderId { get; init; }

    public required string PlayerId { get; init; }

    public required string ClientOrderId { get; init; }

    public required OrderSide Side { get; init; }

    public required OrderKind Kind { get; init; }

    /// <summary>Limit price, or a market order's protection price, in the instrument currency's minor units per item.</summary>
    public required long Price { get; init; }

    public required long Quantity { get; init; }

    /// <summary>When a good-till-date order leaves the book by itself; null for good till cancelled.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>An order was refused; nothing was held or changed. <see cref="Code"/> is one of <c>TradingErrorCodes</c>.</summary>
public sealed record TradingOrderRejected : IntegrationEvent
{
    public const string EventType = "trading.order.rejected.v1";

    public required string Instrument { get; init; }

    public required string PlayerId { get; init; }

    public required string ClientOrderId { get; init; }

    public required string Code { get; init; }

    public required string Reason { get; init; }
}

/// <summary>
/// An order left the book with <see cref="Remaining"/> unfilled: <c>requested</c>, <c>replaced</c>, <c>self_trade</c>,
/// <c>unfilled</c> (market, IOC or FOK remainder) or <c>expired</c>. What was still held for it is released.
/// </summary>
public sealed record TradingOrderCancelled : IntegrationEvent
{
    public const string EventType = "trading.order.cancelled.v1";

    public required string Instrument { get; init; }

    public required string OrderId { get; init; }

    public required string PlayerId { get; init; }

    public required long Remaining { get; init; }

    public required string Reason { get; init; }
}

/// <summary>
/// Two orders matched at the maker's price. Settlement <see cref="FillId"/> moves the currency and the items; it is
/// reported by <see cref="TradingSettlementCompleted"/> or <see cref="TradingSettlementCompensated"/>.
/// </summary>
public sealed record TradingFill : IntegrationEvent
{
    public const string EventType = "trading.fill.v1";

    public required string Instrument { get; init; }

    /// <summary>Also the settlement id.</summary>
    public required string FillId { get; init; }

    public required string BuyerId { get; init; }

    public required string SellerId { get; init; }

    public required string BuyOrderId { get; init; }

    public required string SellOrderId { get; init; }

    public required OrderSide TakerSide { get; init; }

    public required long Price { get; init; }

    public required long Quantity { get; init; }

    /// <summary>The book's sequence number of this fill (shared with depth changes).</summary>
    public required long BookSequence { get; init; }
}

/// <summary>One price level's new total; 0 means the level is gone.</summary>
public sealed record DepthLevelChange(long BookSequence, OrderSide Side, long Price, long Quantity);

/// <summary>
/// Level-2 depth increments of one command on one book, in book-sequence order. A consumer that sees
/// <see cref="FromSequence"/> skip past the last sequence it applied reloads the snapshot. Public market data.
/// </summary>
public sealed record TradingBookDelta : IntegrationEvent
{
    public const string EventType = "trading.book.delta.v1";

    public required string Instrument { get; init; }

    public required long FromSequence { get; init; }

    public required long ToSequence { get; init; }

    public required IReadOnlyList<DepthLevelChange> Changes { get; init; }

    public bool Equals(TradingBookDelta? other) =>
        other is not null && base.Equals(other) && Instrument == other.Instrument && FromSequence == other.FromSequence
        && ToSequence == other.ToSequence && Changes.SequenceEqual(other.Changes);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Instrument, FromSequence, ToSequence, Changes.Count);
}

/// <summary>A settlement ran every step: each party has what the trade gave them. Stream <c>trading/settlement/{id}</c>.</summary>
public sealed record TradingSettlementCompleted : IntegrationEvent
{
    public const string EventType = "trading.settlement.completed.v1";

    public required string SettlementId { get; init; }

    /// <summary><c>fill</c> (order book) or <c>swap</c> (direct trade).</summary>
    public required string Kind { get; init; }

    public required IReadOnlyList<string> Parties { get; init; }

    /// <summary>Currency taken as a fee (a sink), in <see cref="FeeCurrency"/>; 0 for swaps.</summary>
    public required long Fee { get; init; }

    public string? FeeCurrency { get; init; }

    public bool Equals(TradingSettlementCompleted? other) =>
        other is not null && base.Equals(other) && SettlementId == other.SettlementId && Kind == other.Kind
        && Parties.SequenceEqual(other.Parties) && Fee == other.Fee && FeeCurrency == other.FeeCurrency;

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), SettlementId, Kind, Fee);
}

/// <summary>A settlement step failed for good and every step already done was undone.</summary>
public sealed record TradingSettlementCompensated : IntegrationEvent
{
    public const string EventType = "trading.settlement.compensated.v1";

    public required string SettlementId { get; init; }

    public required string Kind { get; init; }

    public required IReadOnlyList<string> Parties { get; init; }

    public required string Reason { get; init; }

    public bool Equals(TradingSettlementCompensated? other) =>
        other is not null && base.Equals(other) && SettlementId == other.SettlementId && Kind == other.Kind
        && Parties.SequenceEqual(other.Parties) && Reason == other.Reason;

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), SettlementId, Kind, Reason);
}

/// <summary>
/// A direct trade changed state: <c>trading.trade.{proposed|accepted|confirmed|cancelled|expired|completed|failed}.v1</c>,
/// one shape for all (<see cref="EventTypeOf"/>). Stream <c>trading/trade/{tradeId}</c>.
/// </summary>
public sealed record TradingTradeChanged : IntegrationEvent
{
    public const string EventTypePrefix = "trading.trade.";

    public static string EventTypeOf(string status) => EventTypePrefix + status + ".v1";

    public required string TradeId { get; init; }

    /// <summary><c>proposed</c>, <c>accepted</c>, <c>confirmed</c>, <c>cancelled</c>, <c>expired</c>, <c>completed</c> or <c>failed</c>.</summary>
    public required string Status { get; init; }

    public required string ProposerId { get; init; }

    public required string CounterpartyId { get; init; }

    /// <summary>Who caused the change (a party, or <c>system</c> for expiry and settlement).</summary>
    public required string ActorId { get; init; }

    public string? Reason { get; init; }
}

/// <summary>
/// A player's wallet changed: one applied command (a hold, a settlement step, a grant, a mint…) and the ledger entries it
/// wrote, each with the balance after it. Stream <c>trading/wallet/{playerId}</c>; <see cref="IntegrationEvent.Sequence"/>
/// is the wallet's version, one per change, so a client that sees a gap knows it missed one and re-reads the wallet.
/// Published after the change is saved, best effort: the wallet itself (<c>GET /v1/wallet</c>) is the truth.
/// </summary>
public sealed record TradingWalletChanged : IntegrationEvent
{
    public const string EventType = "trading.wallet.changed.v1";

    public required string PlayerId { get; init; }

    /// <summary>The command's idempotency key (for example <c>settle:f-iron-sword-GOLD-7:2</c>).</summary>
    public required string Key { get; init; }

    /// <summary>The ledger sequence of the command's first and last entries.</summary>
    public required long FirstEntry { get; init; }

    public required long LastEntry { get; init; }

    public required IReadOnlyList<WalletEntryChange> Entries { get; init; }

    public bool Equals(TradingWalletChanged? other) =>
        other is not null && base.Equals(other) && PlayerId == other.PlayerId && Key == other.Key && FirstEntry == other.FirstEntry
        && LastEntry == other.LastEntry && Entries.SequenceEqual(other.Entries);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), PlayerId, Key, FirstEntry, LastEntry, Entries.Count);
}

/// <summary>One ledger entry of a <see cref="TradingWalletChanged"/>: what moved for one asset and where it now stands.</summary>
/// <param name="Kind"><c>credit</c>, <c>debit</c>, <c>hold</c>, <c>capture</c> or <c>release</c>.</param>
/// <param name="Asset"><c>currency:{code}</c>, <c>stack:{itemType}</c> or <c>instance:{id}</c>, as in the ledger.</param>
public sealed record WalletEntryChange(long Sequence, string Kind, string Asset, long DeltaAvailable, long DeltaHeld, long AvailableAfter, long HeldAfter, string? HoldId);

/// <summary>
/// Reading trading events without their CloudEvent envelope (a subscriber behind the SDK's CloudEvents middleware gets
/// only the data): which event a JSON object is, told by the fields only that event has, and which players it names.
/// </summary>
public static class TradingEventShapes
{
    /// <summary>The CloudEvent type of a trading event's JSON, or null when it is none of them.</summary>
    public static string? TypeOf(System.Text.Json.JsonElement e)
    {
        if (e.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return null;
        }
        bool Has(string name) => e.TryGetProperty(name, out _);
        if (Has("firstEntry") && Has("lastEntry"))
        {
            return TradingWalletChanged.EventType;
        }
        if (Has("tradeId") && e.TryGetProperty("status", out var status) && status.ValueKind == System.Text.Json.JsonValueKind.String)
        {
            return TradingTradeChanged.EventTypeOf(status.GetString()!);
        }
        if (Has("settlementId"))
        {
            return Has("fee") ? TradingSettlementCompleted.EventType : Has("reason") ? TradingSettlementCompensated.EventType : null;
        }
        if (Has("fillId"))
        {
            return TradingFill.EventType;
        }
        if (Has("changes") && Has("fromSequence"))
        {
            return TradingBookDelta.EventType;
        }
        if (Has("clientOrderId"))
        {
            return Has("code") ? TradingOrderRejected.EventType : Has("side") ? TradingOrderAccepted.EventType : null;
        }
        return Has("orderId") && Has("remaining") ? TradingOrderCancelled.EventType : null;
    }

    /// <summary>The players an event concerns (each once): the order's owner, both sides of a fill, a settlement's or a trade's parties.</summary>
    public static IReadOnlyList<string> PlayersOf(System.Text.Json.JsonElement e)
    {
        var players = new List<string>(2);
        void Add(string? id)
        {
            if (!string.IsNullOrEmpty(id) && !players.Contains(id))
            {
                players.Add(id);
            }
        }
        foreach (var name in (ReadOnlySpan<string>)["playerId", "buyerId", "sellerId", "proposerId", "counterpartyId"])
        {
            if (e.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String)
            {
                Add(v.GetString());
            }
        }
        if (e.TryGetProperty("parties", out var parties) && parties.ValueKind == System.Text.Json.JsonValueKind.Array)
        {
            foreach (var p in parties.EnumerateArray())
            {
                if (p.ValueKind == System.Text.Json.JsonValueKind.String)
                {
                    Add(p.GetString());
                }
            }
        }
        return players;
    }
}
