using Dapr.Actors;
using DaprGame.Contracts.Trading;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;

namespace DaprGame.Trading.Actors;

/// <summary>A refusal: a <see cref="TradingErrorCodes"/> code and a message for people.</summary>
public sealed record TradingError(string Code, string Message);

/// <summary>
/// An actor's answer: the value, or the error that refused the command. Refusals travel as data, not exceptions, so
/// the HTTP edge maps them once and the actor runtime never treats a refusal as a failed call.
/// </summary>
public sealed record ActorReply<T>(T? Value, TradingError? Error);

/// <summary>Builds <see cref="ActorReply{T}"/> values.</summary>
public static class Reply
{
    public static ActorReply<T> Ok<T>(T value) => new(value, null);

    public static ActorReply<T> Fail<T>(string code, string message) => new(default, new TradingError(code, message));
}

public sealed record EntriesCall(long After, int Limit);

/// <summary>
/// One player's wallet (actor type <c>Wallet</c>, id = player id): balances, holds, items and the ledger. Every
/// mutation is one <see cref="WalletCall"/>, idempotent by its key.
/// </summary>
public interface IWallet : IActor
{
    Task<LedgerOutcome> ApplyAsync(WalletCall call);

    Task<WalletView> ViewAsync();

    Task<List<LedgerEntryView>> EntriesAsync(EntriesCall call);
}

/// <summary>A player's order, from the gateway.</summary>
public sealed record PlaceCall(string PlayerId, PlaceOrder Order);

public sealed record CancelCall(string PlayerId, string OrderId);

public sealed record ReplaceCall(string PlayerId, string OrderId, long Price, long Quantity);

public sealed record PlayerCall(string PlayerId);

public sealed record LimitCall(int Limit);

public sealed record CandlesCall(string Interval, int Limit);

/// <summary>One instrument's order book (actor type <c>OrderBook</c>, id = instrument id).</summary>
public interface IOrderBook : IActor
{
    Task<ActorReply<OrderView>> PlaceAsync(PlaceCall call);

    Task<ActorReply<OrderView>> CancelAsync(CancelCall call);

    Task<ActorReply<OrderView>> ReplaceAsync(ReplaceCall call);

    Task<List<OrderView>> MyOrdersAsync(PlayerCall call);

    Task<DepthView> DepthAsync(LimitCall call);

    Task<List<TradeView>> TradesAsync(LimitCall call);

    Task<ActorReply<List<CandleView>>> CandlesAsync(CandlesCall call);
}

/// <summary>
/// Start a settlement: exactly one of <see cref="Fill"/> or <see cref="Swap"/>. When it finishes, the actor named by
/// <see cref="NotifyType"/>/<see cref="NotifyId"/> (if any) is told through <c>SettlementFinishedAsync</c>.
/// </summary>
public sealed record SettlementStart(string SettlementId, FillTerms? Fill, SwapTerms? Swap, string? NotifyType, string? NotifyId);

public sealed record SettlementFinished(string SettlementId, bool Settled, string? Reason);

/// <summary>One settlement saga (actor type <c>Settlement</c>, id = settlement id), driven by a timer and a reminder.</summary>
public interface ISettlement : IActor
{
    Task<SettlementView> StartAsync(SettlementStart start);

    Task<SettlementView?> ViewAsync();
}

public sealed record ProposeCall(string PlayerId, string TradeId, ProposeTrade Proposal);

public sealed record TradeActionCall(string PlayerId, string Action);

/// <summary>One direct trade between two players (actor type <c>DirectTrade</c>, id = trade id).</summary>
public interface IDirectTrade : IActor
{
    Task<ActorReply<DirectTradeView>> ProposeAsync(ProposeCall call);

    Task<ActorReply<DirectTradeView>> ActAsync(TradeActionCall call);

    Task<ActorReply<DirectTradeView>> ViewAsync(PlayerCall call);

    Task SettlementFinishedAsync(SettlementFinished finished);
}
