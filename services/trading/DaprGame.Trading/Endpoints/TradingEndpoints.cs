using System.Text.RegularExpressions;
using DaprGame.Contracts.Trading;
using DaprGame.Trading.Actors;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;
using DaprGame.Trading.Infrastructure;

namespace DaprGame.Trading.Endpoints;

/// <summary>
/// The routes of <see cref="TradingRoutes"/>. The acting player comes from <see cref="TradingHeaders.PlayerId"/>,
/// believed only on calls the sidecar marks as coming from a trusted app (<c>dapr-caller-app-id</c>, which the sidecar
/// sets and overwrites); every route acts on that player's own wallet, orders and trades, except the admin routes
/// (the <c>admin</c> role) and grants (the apps in <c>Trading:GrantCallers</c>).
/// </summary>
public static partial class TradingEndpoints
{
    private const string CallerHeader = "dapr-caller-app-id";

    public static IEndpointRouteBuilder MapTradingEndpoints(this IEndpointRouteBuilder routes)
    {
        var options = routes.ServiceProvider.GetRequiredService<TradingOptions>();
        var players = routes.MapGroup(string.Empty).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!options.TrustedCallers.Contains(http.Request.Headers[CallerHeader].ToString()))
            {
                return TradingErrors.Problem(TradingErrorCodes.Forbidden, "only the gateway calls the player API (Trading:TrustedCallers)");
            }
            if (Player(http) is null)
            {
                return TradingErrors.Problem(TradingErrorCodes.Unauthenticated, $"header {TradingHeaders.PlayerId} is missing or not a player id");
            }
            return await next(context);
        });

        players.MapGet(TradingRoutes.Wallet, (HttpContext h, TradingActorClient a) =>
            a.CallAsync<WalletView>(TradingActorClient.WalletType, Player(h)!, nameof(IWallet.ViewAsync)));
        players.MapGet(TradingRoutes.Ledger, async (HttpContext h, TradingActorClient a, long? after, int? limit) =>
            after is < 0 || limit is < 1 or > 500 ? Invalid("after is 0 or more; limit is 1-500")
                : TypedResults.Ok(await a.CallAsync<EntriesCall, List<LedgerEntryView>>(TradingActorClient.WalletType, Player(h)!, nameof(IWallet.EntriesAsync), new EntriesCall(after ?? 0, limit ?? 100))));
        players.MapGet(TradingRoutes.Instruments, () =>
            options.Instruments.Values.OrderBy(i => i.Id, StringComparer.Ordinal).Select(i => new InstrumentView(i.Id, i.ItemType, i.Currency)).ToList());

        players.MapPost(TradingRoutes.Orders, async (HttpContext h, TradingActorClient a, PlaceOrder? order) =>
            order?.Instrument is not { } instrument ? Invalid("body is a PlaceOrder")
                : !options.Instruments.ContainsKey(instrument) ? TradingErrors.Problem(TradingErrorCodes.UnknownInstrument, $"no instrument {instrument}")
                : TradingErrors.Reply(await a.CallAsync<PlaceCall, ActorReply<OrderView>>(TradingActorClient.OrderBookType, instrument, nameof(IOrderBook.PlaceAsync), new PlaceCall(Player(h)!, order))));
        players.MapGet(TradingRoutes.MyOrders("{instrument}"), (HttpContext h, TradingActorClient a, string instrument) =>
            Book(options, instrument, async () => TypedResults.Ok(await a.CallAsync<PlayerCall, List<OrderView>>(TradingActorClient.OrderBookType, instrument, nameof(IOrderBook.MyOrdersAsync), new PlayerCall(Player(h)!)))));
        players.MapDelete(TradingRoutes.Order("{instrument}", "{orderId}"), (HttpContext h, TradingActorClient a, string instrument, string orderId) =>
            Book(options, instrument, async () => TradingErrors.Reply(await a.CallAsync<CancelCall, ActorReply<OrderView>>(TradingActorClient.OrderBookType, instrument, nameof(IOrderBook.CancelAsync), new CancelCall(Player(h)!, orderId)))));
        players.MapPut(TradingRoutes.Order("{instrument}", "{orderId}"), (HttpContext h, TradingActorClient a, string instrument, string orderId, ReplaceOrder? body) =>
            body is null ? Task.FromResult(Invalid("body is a ReplaceOrder"))
                : Book(options, instrument, async () => TradingErrors.Reply(await a.CallAsync<ReplaceCall, ActorReply<OrderView>>(TradingActorClient.OrderBookType, instrument, nameof(IOrderBook.ReplaceAsync), new ReplaceCall(Player(h)!, orderId, body.Price, body.Quantity)))));
        players.MapGet(TradingRoutes.Depth("{instrument}"), (TradingActorClient a, string instrument, int? levels) =>
            Book(options, instrument, async () => TypedResults.Ok(await a.CallAsync<LimitCall, DepthView>(TradingActorClient.OrderBookType, instrument, nameof(IOrderBook.DepthAsync), new LimitCall(levels ?? 20)))));
        players.MapGet(TradingRoutes.Trades("{instrument}"), (TradingActorClient a, string instrument, int? limit) =>
            Book(options, instrument, async () => TypedResults.Ok(await a.CallAsync<LimitCall, List<TradeView>>(TradingActorClient.OrderBookType, instrument, nameof(IOrderBook.TradesAsync), new LimitCall(limit ?? 50)))));
        players.MapGet(TradingRoutes.Candles("{instrument}"), (TradingActorClient a, string instrument, string? interval, int? limit) =>
            Book(options, instrument, async () => TradingErrors.Reply(await a.CallAsync<CandlesCall, ActorReply<List<CandleView>>>(TradingActorClient.OrderBookType, instrument, nameof(IOrderBook.CandlesAsync), new CandlesCall(interval ?? "1m", limit ?? 100)))));

        players.MapGet(TradingRoutes.Settlement("{settlementId}"), async (HttpContext h, TradingActorClient a, string settlementId) =>
        {
            if (!IdPattern().IsMatch(settlementId))
            {
                return Invalid("not a settlement id");
            }
            var view = await a.CallAsync<SettlementView?>(TradingActorClient.SettlementType, settlementId, nameof(ISettlement.ViewAsync));
            return view is not null && (view.Parties.Contains(Player(h)!) || IsAdmin(h))
                ? TypedResults.Ok(view)
                : TradingErrors.Problem(TradingErrorCodes.NotFound, $"no settlement {settlementId} of yours");
        });

        players.MapPost(TradingRoutes.DirectTrades, async (HttpContext h, TradingActorClient a, ProposeTrade? body) =>
        {
            var player = Player(h)!;
            if (body is null || body.ClientTradeId is null || !ClientIdPattern().IsMatch(body.ClientTradeId) || body.CounterpartyId is null || !PlayerPattern().IsMatch(body.CounterpartyId))
            {
                return Invalid("body is a ProposeTrade with a clientTradeId (1-64 of [A-Za-z0-9._:-]) and a counterparty player id");
            }
            // Derived from (player, client id), so a repeated proposal finds the first; hashed to stay a short, valid id.
            var tradeId = "t" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(player + "/" + body.ClientTradeId)))[..32];
            return TradingErrors.Reply(await a.CallAsync<ProposeCall, ActorReply<DirectTradeView>>(TradingActorClient.DirectTradeType, tradeId, nameof(IDirectTrade.ProposeAsync), new ProposeCall(player, tradeId, body)));
        });
        players.MapGet(TradingRoutes.DirectTrade("{tradeId}"), async (HttpContext h, TradingActorClient a, string tradeId) =>
            !IdPattern().IsMatch(tradeId) ? Invalid("not a trade id")
                : TradingErrors.Reply(await a.CallAsync<PlayerCall, ActorReply<DirectTradeView>>(TradingActorClient.DirectTradeType, tradeId, nameof(IDirectTrade.ViewAsync), new PlayerCall(Player(h)!))));
        players.MapPost(TradingRoutes.DirectTrade("{tradeId}") + "/{action}", async (HttpContext h, TradingActorClient a, string tradeId, string action) =>
            !IdPattern().IsMatch(tradeId) || action is not ("accept" or "confirm" or "cancel") ? Invalid("POST /v1/trades/{id}/accept|confirm|cancel")
                : TradingErrors.Reply(await a.CallAsync<TradeActionCall, ActorReply<DirectTradeView>>(TradingActorClient.DirectTradeType, tradeId, nameof(IDirectTrade.ActAsync), new TradeActionCall(Player(h)!, action))));

        players.MapGet(TradingRoutes.AdminWallet("{playerId}"), (HttpContext h, TradingActorClient a, string playerId) =>
            !IsAdmin(h) ? Task.FromResult(Forbidden())
                : !PlayerPattern().IsMatch(playerId) ? Task.FromResult(Invalid("not a player id"))
                : View(a, playerId));
        players.MapPost(TradingRoutes.AdminMint("{playerId}"), (HttpContext h, TradingActorClient a, string playerId, AdminAdjustment? body) =>
            Adjust(h, a, playerId, body, WalletOp.Credit));
        players.MapPost(TradingRoutes.AdminBurn("{playerId}"), (HttpContext h, TradingActorClient a, string playerId, AdminAdjustment? body) =>
            Adjust(h, a, playerId, body, WalletOp.Debit));

        // Grants come from services (combat's loot) or an admin through the gateway; not from players.
        routes.MapPost(TradingRoutes.Grants, async (HttpContext h, TradingActorClient a, GrantRequest? body) =>
        {
            var caller = h.Request.Headers[CallerHeader].ToString();
            if (!options.GrantCallers.Contains(caller) || (options.TrustedCallers.Contains(caller) && Player(h) is not null && !IsAdmin(h)))
            {
                return Forbidden();
            }
            if (body is null || body.Key is null || !KeyPattern().IsMatch(body.Key) || body.PlayerId is null || !PlayerPattern().IsMatch(body.PlayerId) || body.Assets is null)
            {
                return Invalid("body is a GrantRequest: key (1-100 of [A-Za-z0-9._:-]), playerId, assets, reason");
            }
            return await ApplyAsync(a, new WalletCall(body.PlayerId, WalletOp.Credit, "grant:" + body.Key, null, DirectTradeActor.Bundle(body.Assets), $"grant by {caller}: {body.Reason}"));
        });
        return routes;
    }

    private static async Task<IResult> Adjust(HttpContext h, TradingActorClient a, string playerId, AdminAdjustment? body, WalletOp op)
    {
        if (!IsAdmin(h))
        {
            return Forbidden();
        }
        if (!PlayerPattern().IsMatch(playerId) || body is null || body.Key is null || !KeyPattern().IsMatch(body.Key) || body.Assets is null)
        {
            return Invalid("body is an AdminAdjustment: key (1-100 of [A-Za-z0-9._:-]), assets, reason");
        }
        var verb = op == WalletOp.Credit ? "mint" : "burn";
        return await ApplyAsync(a, new WalletCall(playerId, op, $"admin:{verb}:{body.Key}", null, DirectTradeActor.Bundle(body.Assets), $"admin {verb} by {Player(h)}: {body.Reason}"));
    }

    private static async Task<IResult> ApplyAsync(TradingActorClient a, WalletCall call)
    {
        var outcome = await a.CallAsync<WalletCall, LedgerOutcome>(TradingActorClient.WalletType, call.PlayerId, nameof(IWallet.ApplyAsync), call);
        return outcome.Ok ? await View(a, call.PlayerId) : TradingErrors.Problem(TradingErrors.Code(outcome.Error), outcome.Message ?? outcome.Error.ToString());
    }

    private static async Task<IResult> View(TradingActorClient a, string playerId) =>
        TypedResults.Ok(await a.CallAsync<WalletView>(TradingActorClient.WalletType, playerId, nameof(IWallet.ViewAsync)));

    private static Task<IResult> Book(TradingOptions options, string instrument, Func<Task<IResult>> next) =>
        options.Instruments.ContainsKey(instrument) ? next() : Task.FromResult(TradingErrors.Problem(TradingErrorCodes.UnknownInstrument, $"no instrument {instrument}"));

    private static string? Player(HttpContext http) =>
        http.Request.Headers[TradingHeaders.PlayerId].ToString() is { Length: > 0 } id && PlayerPattern().IsMatch(id) ? id : null;

    private static bool IsAdmin(HttpContext http) =>
        http.Request.Headers[TradingHeaders.Roles].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains("admin");

    private static IResult Invalid(string message) => TradingErrors.Problem(TradingErrorCodes.Invalid, message);

    private static IResult Forbidden() => TradingErrors.Problem(TradingErrorCodes.Forbidden, "this needs the admin role");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex PlayerPattern();

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex ClientIdPattern();

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,100}$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,200}$")]
    private static partial Regex IdPattern();
}
