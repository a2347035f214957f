namespace DaprGame.Contracts.Trading;

// The trading service's API. Players reach it through the gateway (/v1/trading/...), which forwards the verified
// player id and roles in TradingHeaders; trading trusts those headers only from the callers its access list names
// (the gateway, and combat for grants). Errors are ProblemDetails whose "code" extension is one of TradingErrorCodes.

/// <summary>Headers of gateway → trading calls.</summary>
public static class TradingHeaders
{
    public const string PlayerId = "daprgame-player-id";

    /// <summary>Comma-separated roles of the acting player (for example <c>player,admin</c>).</summary>
    public const string Roles = "daprgame-player-roles";

    /// <summary>Idempotency key of a mutation; the same key with the same body has one effect and the same answer.</summary>
    public const string IdempotencyKey = "idempotency-key";
}

/// <summary>Routes of the trading service.</summary>
public static class TradingRoutes
{
    /// <summary>GET: the acting player's balances, held amounts, item stacks and instances.</summary>
    public const string Wallet = "/v1/wallet";

    /// <summary>GET <c>?after={sequence}&amp;limit={n}</c>: the acting player's ledger, oldest first.</summary>
    public const string Ledger = "/v1/wallet/ledger";

    /// <summary>GET: instruments traded here. </summary>
    public const string Instruments = "/v1/instruments";

    /// <summary>POST <see cref="PlaceOrder"/> → <see cref="OrderView"/>.</summary>
    public const string Orders = "/v1/orders";

    /// <summary>GET: the acting player's open orders on an instrument.</summary>
    public static string MyOrders(string instrument) => $"/v1/books/{instrument}/orders";

    /// <summary>DELETE: cancel. PUT <see cref="ReplaceOrder"/>: replace.</summary>
    public static string Order(string instrument, string orderId) => $"/v1/books/{instrument}/orders/{orderId}";

    /// <summary>GET <c>?levels={n}</c>: L2 snapshot (<see cref="DepthView"/>).</summary>
    public static string Depth(string instrument) => $"/v1/books/{instrument}/depth";

    /// <summary>GET <c>?limit={n}</c>: the most recent trades, newest last.</summary>
    public static string Trades(string instrument) => $"/v1/books/{instrument}/trades";

    /// <summary>GET <c>?interval=1m|1h|1d&amp;limit={n}</c>: OHLCV candles, oldest first.</summary>
    public static string Candles(string instrument) => $"/v1/books/{instrument}/candles";

    /// <summary>GET: a settlement's state (parties only).</summary>
    public static string Settlement(string settlementId) => $"/v1/settlements/{settlementId}";

    /// <summary>POST <see cref="ProposeTrade"/>: a direct trade with another player.</summary>
    public const string DirectTrades = "/v1/trades";

    /// <summary>GET: a direct trade (parties only). POST <c>/accept</c>, <c>/confirm</c>, <c>/cancel</c>.</summary>
    public static string DirectTrade(string tradeId) => $"/v1/trades/{tradeId}";

    /// <summary>POST <see cref="GrantRequest"/>: an idempotent grant from another service (loot) or an admin.</summary>
    public const string Grants = "/v1/grants";

    /// <summary>POST <see cref="AdminAdjustment"/>: mint into or burn from a wallet (admin role), audited in the ledger.</summary>
    public static string AdminMint(string playerId) => $"/v1/admin/wallets/{playerId}/mint";

    public static string AdminBurn(string playerId) => $"/v1/admin/wallets/{playerId}/burn";

    /// <summary>GET: any wallet (admin role).</summary>
    public static string AdminWallet(string playerId) => $"/v1/admin/wallets/{playerId}";
}

/// <summary>Error codes trading returns (ProblemDetails extension <c>code</c>).</summary>
public static class TradingErrorCodes
{
    public const string Invalid = "invalid";
    public const string NotFound = "not_found";
    public const string Forbidden = "forbidden";
    public const string Unauthenticated = "unauthenticated";
    public const string InsufficientFunds = "insufficient_funds";
    public const string InsufficientItems = "insufficient_items";
    public const string UnknownInstrument = "unknown_instrument";
    public const string IdempotencyConflict = "idempotency_conflict";
    public const string WouldCross = "would_cross";
    public const string NotFillable = "not_fillable";
    public const string NoLiquidity = "no_liquidity";
    public const string WrongState = "wrong_state";
    public const string Expired = "expired";
    public const string Unavailable = "unavailable";
}

/// <summary>
/// Currencies (code → minor units), fungible item stacks (type → count) and unique item instances (ids). Every
/// amount is positive.
/// </summary>
public sealed record Assets
{
    public Dictionary<string, long> Currencies { get; init; } = [];

    public Dictionary<string, long> Stacks { get; init; } = [];

    public List<string> Instances { get; init; } = [];
}

/// <summary>
/// A new order. <see cref="ClientOrderId"/> makes it idempotent per player; the order id is derived from it.
/// <see cref="Price"/> is the limit, or a market order's protection price (a market buy holds price × quantity).
/// </summary>
/// <summary>
/// An order to place. <see cref="ExpiresAt"/> makes a resting order (limit or post-only) good till that time instead of
/// good till cancelled: the book takes it off then (cancel reason <c>expired</c>) and gives back what it still holds.
/// </summary>
public sealed record PlaceOrder(string Instrument, string ClientOrderId, OrderSide Side, OrderKind Kind, long Price, long Quantity,
    DateTimeOffset? ExpiresAt = null);

public sealed record ReplaceOrder(long Price, long Quantity);

/// <summary>An order as the book holds it. <see cref="Status"/>: <c>open</c>, <c>filled</c>, <c>cancelled</c>.</summary>
public sealed record OrderView(string Instrument, string OrderId, string ClientOrderId, OrderSide Side, OrderKind Kind, long Price,
    long Quantity, long Filled, long Remaining, string Status, string? CancelReason, IReadOnlyList<string> FillIds,
    DateTimeOffset? ExpiresAt = null);

public sealed record DepthLevel(long Price, long Quantity, int Orders);

public sealed record DepthView(string Instrument, long Sequence, IReadOnlyList<DepthLevel> Bids, IReadOnlyList<DepthLevel> Asks);

public sealed record TradeView(long Sequence, long Price, long Quantity, OrderSide TakerSide, DateTimeOffset At);

public sealed record CandleView(DateTimeOffset Start, long Open, long High, long Low, long Close, long Volume);

public sealed record InstrumentView(string Instrument, string ItemType, string Currency);

/// <summary>Per currency and per item type: what is free to use and what is held for open orders and trades.</summary>
public sealed record WalletView(string PlayerId, IReadOnlyList<CurrencyBalance> Currencies, IReadOnlyList<StackBalance> Stacks, IReadOnlyList<InstanceView> Instances);

public sealed record CurrencyBalance(string Currency, long Available, long Held);

public sealed record StackBalance(string ItemType, long Available, long Held);

public sealed record InstanceView(string InstanceId, bool Held);

public sealed record LedgerEntryView(long Sequence, string Key, string Kind, string Asset, long DeltaAvailable, long DeltaHeld,
    long AvailableAfter, long HeldAfter, string? HoldId, string Reason, DateTimeOffset At);

/// <summary>A direct trade offer to <see cref="CounterpartyId"/>; <see cref="ClientTradeId"/> makes it idempotent.</summary>
public sealed record ProposeTrade(string ClientTradeId, string CounterpartyId, Assets Gives, Assets Wants, int? ExpiresInSeconds);

public sealed record DirectTradeView(string TradeId, string ProposerId, string CounterpartyId, Assets ProposerGives, Assets CounterpartyGives,
    string Status, bool ProposerConfirmed, bool CounterpartyConfirmed, DateTimeOffset ExpiresAt, string? SettlementId, string? Reason);

/// <summary>A grant into a player's wallet, idempotent by <see cref="Key"/> (for loot: the drop's id).</summary>
public sealed record GrantRequest(string Key, string PlayerId, Assets Assets, string Reason);

public sealed record AdminAdjustment(string Key, Assets Assets, string Reason);

/// <summary>A settlement's state: <c>pending</c>, <c>settled</c>, <c>compensating</c>, <c>compensated</c> or <c>stuck</c>.</summary>
public sealed record SettlementView(string SettlementId, string Kind, string Status, IReadOnlyList<string> Parties, int StepsDone, int Attempts,
    string? FailureReason, long Fee, string? FeeCurrency);
