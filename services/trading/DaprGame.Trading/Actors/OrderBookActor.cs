using System.Text.RegularExpressions;
using Dapr.Actors.Runtime;
using DaprGame.Contracts;
using DaprGame.Contracts.Trading;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.MarketData;
using DaprGame.Trading.Domain.Matching;
using DaprGame.Trading.Domain.Settlement;
using DaprGame.Trading.Infrastructure;

namespace DaprGame.Trading.Actors;

/// <summary>
/// One instrument's order book. An order is accepted only after its hold succeeded (a buyer's currency for
/// price × quantity, a seller's items); the engine matches it; every fill becomes a <c>Settlement</c> saga that moves
/// what the holds reserved. A turn saves the book, then runs its outbox: settlements to start, what a finished order
/// still holds to release, events to publish — each idempotent, so a crash between saving and finishing repeats them
/// harmlessly on the next activation.
/// </summary>
/// <remarks>
/// Placing writes twice: first the intent (<see cref="PendingPlacement"/>), then the outcome. A crash between the
/// wallet's hold and the second write leaves the intent, and the next activation releases that hold; the client's
/// retry then places afresh under a new order number (so a new hold key).
/// </remarks>
[Actor(TypeName = TradingActorClient.OrderBookType)]
public sealed partial class OrderBookActor(
    ActorHost host,
    TradingOptions options,
    TimeProvider time,
    TradingActorClient actors,
    ITradingPublisher publisher,
    ILogger<OrderBookActor> logger) : Actor(host), IOrderBook, IRemindable
{
    private const string StateKey = "book";
    private const string RetryTimer = "outbox-retry";
    private const string ExpiryReminder = "expire";
    private const int ClosedOrdersKept = 2_000;
    private const int TapeKept = 2_000;

    private BookState _state = null!;
    private OrderBook _book = null!;
    private Candles _candles = null!;
    private Instrument? _instrument;
    private bool _retrying;

    private string InstrumentId => Id.GetId();

    protected override async Task OnActivateAsync()
    {
        options.Instruments.TryGetValue(InstrumentId, out _instrument);
        var stored = await StateManager.TryGetStateAsync<BookState>(StateKey);
        _state = stored.HasValue ? stored.Value : new BookState();
        _book = OrderBook.Restore(BookOptions(), _state.Resting, _state.Sequence);
        _candles = new Candles();
        foreach (var t in _state.Tape)
        {
            _candles.Add(t.Price, t.Quantity, t.At);
        }
        if (_state.Pending.Count > 0)
        {
            await ResolvePendingAsync();
        }
        await FlushAsync();
    }

    public async Task<ActorReply<OrderView>> PlaceAsync(PlaceCall call)
    {
        var o = call.Order;
        if (_instrument is not { } instrument)
        {
            return Reply.Fail<OrderView>(TradingErrorCodes.UnknownInstrument, $"no instrument {InstrumentId}");
        }
        if (Validate(o) is { } invalid)
        {
            return Reply.Fail<OrderView>(TradingErrorCodes.Invalid, invalid);
        }
        var clientKey = call.PlayerId + "/" + o.ClientOrderId;
        if (_state.ClientOrders.TryGetValue(clientKey, out var existingId) && _state.Orders.TryGetValue(existingId, out var existing))
        {
            return Answer(existing);
        }

        var number = _state.NextOrder++;
        var orderId = number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var holdId = $"order:{InstrumentId}:{orderId}";
        var held = o.Side == OrderSide.Buy ? o.Price * o.Quantity : o.Quantity;
        var assets = o.Side == OrderSide.Buy ? Currency(instrument.Currency, held) : Items(instrument.ItemType, held);
        var record = new OrderRecord
        {
            OrderId = orderId, Number = number, PlayerId = call.PlayerId, ClientOrderId = o.ClientOrderId, Side = o.Side, Kind = o.Kind,
            Price = o.Price, Quantity = o.Quantity, HoldId = holdId, Held = held, ExpiresAt = o.ExpiresAt,
        };
        _state.Pending.Add(new PendingPlacement(orderId, call.PlayerId, holdId));
        await SaveAsync();

        var hold = await WalletAsync(new WalletCall(call.PlayerId, WalletOp.Hold, holdId + ":hold", holdId, assets, $"order {orderId} on {InstrumentId}"));
        _state.Pending.RemoveAll(p => p.OrderId == orderId);
        if (!hold.Ok)
        {
            var code = hold.Error == LedgerError.InsufficientFunds ? TradingErrorCodes.InsufficientFunds
                : hold.Error == LedgerError.InsufficientItems ? TradingErrorCodes.InsufficientItems : TradingErrorCodes.Invalid;
            Reject(record, code, hold.Message ?? hold.Error.ToString(), releaseHold: false);
            await SaveAndFlushAsync();
            return Answer(record);
        }

        var collector = new Collector();
        var owner = OwnerOf(call.PlayerId);
        var reject = _book.Submit(new NewOrder(number, owner, ToSide(o.Side), ToType(o.Kind), o.Price, o.Quantity), ref collector);
        if (reject != RejectReason.None)
        {
            var (code, message) = RejectCode(reject);
            Reject(record, code, message, releaseHold: true);
            await SaveAndFlushAsync();
            return Answer(record);
        }
        Add(record);
        Emit(new TradingOrderAccepted
        {
            Id = EventId(), OccurredAt = time.GetUtcNow(), StreamId = Stream, Sequence = _state.EventSequence,
            Instrument = InstrumentId, OrderId = orderId, PlayerId = call.PlayerId, ClientOrderId = o.ClientOrderId,
            Side = o.Side, Kind = o.Kind, Price = o.Price, Quantity = o.Quantity, ExpiresAt = o.ExpiresAt,
        });
        Apply(collector, instrument);
        await SaveAndFlushAsync();
        if (record.IsOpen && record.ExpiresAt is { } expiresAt && (_state.ExpiryDue is not { } due || expiresAt < due))
        {
            await ScheduleExpiryAsync();
        }
        return Answer(record);
    }

    public async Task<ActorReply<OrderView>> CancelAsync(CancelCall call)
    {
        if (Owned(call.PlayerId, call.OrderId) is not { } record)
        {
            return Reply.Fail<OrderView>(TradingErrorCodes.NotFound, $"no order {call.OrderId} of yours on {InstrumentId}");
        }
        if (!record.IsOpen)
        {
            return Reply.Fail<OrderView>(TradingErrorCodes.WrongState, $"order {call.OrderId} is {record.Status}");
        }
        var collector = new Collector();
        var reject = _book.Cancel(record.Number, ref collector);
        if (reject != RejectReason.None)
        {
            return Reply.Fail<OrderView>(TradingErrorCodes.WrongState, $"order {call.OrderId} is no longer on the book");
        }
        Apply(collector, _instrument!);
        await SaveAndFlushAsync();
        return Answer(record);
    }

    public async Task<ActorReply<OrderView>> ReplaceAsync(ReplaceCall call)
    {
        if (Owned(call.PlayerId, call.OrderId) is not { } record)
        {
            return Reply.Fail<OrderView>(TradingErrorCodes.NotFound, $"no order {call.OrderId} of yours on {InstrumentId}");
        }
        if (!record.IsOpen)
        {
            return Reply.Fail<OrderView>(TradingErrorCodes.WrongState, $"order {call.OrderId} is {record.Status}");
        }
        if (call.Price < 1 || call.Price > options.MaxPrice || call.Quantity < 1 || call.Quantity > options.MaxQuantity)
        {
            return Reply.Fail<OrderView>(TradingErrorCodes.Invalid, $"price is 1-{options.MaxPrice}, quantity 1-{options.MaxQuantity}");
        }
        // A replacement must fit in what the order's hold still has free; more needs a new order (and a new hold).
        var need = record.Side == OrderSide.Buy ? (Int128)call.Price * call.Quantity : call.Quantity;
        var free = record.Held - record.Committed;
        if (need > free)
        {
            return Reply.Fail<OrderView>(
                record.Side == OrderSide.Buy ? TradingErrorCodes.InsufficientFunds : TradingErrorCodes.InsufficientItems,
                $"the replacement needs {need} held, the order has {free}: cancel it and place a new order");
        }
        var collector = new Collector();
        var reject = _book.Replace(record.Number, call.Price, call.Quantity, ref collector);
        if (reject != RejectReason.None)
        {
            var (code, message) = RejectCode(reject);
            if (collector.Cancels.Count > 0)
            {
                // The old order left the book and the new terms were refused (a post-only that would now cross): it ends here.
                Apply(collector, _instrument!);
                await SaveAndFlushAsync();
            }
            return Reply.Fail<OrderView>(code, message);
        }
        record.Price = call.Price;
        record.Quantity = record.Filled + call.Quantity;
        Apply(collector, _instrument!);
        if (record.IsOpen && (long)(free - need) is > 0 and var excess)
        {
            // The smaller order needs less held: the excess goes back now, not when the order ends.
            record.Replacements++;
            record.Held -= excess;
            var instrument = _instrument!;
            var part = record.Side == OrderSide.Buy ? Currency(instrument.Currency, excess) : Items(instrument.ItemType, excess);
            _state.Outbox.Add(new OutboxItem(null, null, new WalletCall(record.PlayerId, WalletOp.Release,
                $"{record.HoldId}:replace-{record.Replacements}", record.HoldId, part, $"order {record.OrderId} replaced")));
        }
        await SaveAndFlushAsync();
        return Answer(record);
    }

    public Task<List<OrderView>> MyOrdersAsync(PlayerCall call) =>
        Task.FromResult(_state.Orders.Values.Where(r => r.PlayerId == call.PlayerId && r.IsOpen).OrderBy(r => r.Number).Select(r => r.View(InstrumentId)).ToList());

    public Task<DepthView> DepthAsync(LimitCall call)
    {
        var snapshot = _book.Snapshot(Math.Clamp(call.Limit, 1, 200));
        return Task.FromResult(new DepthView(
            InstrumentId,
            snapshot.Sequence,
            [.. snapshot.Bids.Select(l => new Contracts.Trading.DepthLevel(l.Price, l.Quantity, l.OrderCount))],
            [.. snapshot.Asks.Select(l => new Contracts.Trading.DepthLevel(l.Price, l.Quantity, l.OrderCount))]));
    }

    public Task<List<TradeView>> TradesAsync(LimitCall call) =>
        Task.FromResult(_state.Tape.TakeLast(Math.Clamp(call.Limit, 1, 500)).Select(t => new TradeView(t.Sequence, t.Price, t.Quantity, t.TakerSide, t.At)).ToList());

    public Task<ActorReply<List<CandleView>>> CandlesAsync(CandlesCall call)
    {
        CandleInterval? interval = call.Interval switch { "1m" => CandleInterval.Minute, "1h" => CandleInterval.Hour, "1d" => CandleInterval.Day, _ => null };
        if (interval is not { } i)
        {
            return Task.FromResult(Reply.Fail<List<CandleView>>(TradingErrorCodes.Invalid, "interval is 1m, 1h or 1d"));
        }
        var candles = _candles.Query(i, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        return Task.FromResult(Reply.Ok<List<CandleView>>([.. candles.TakeLast(Math.Clamp(call.Limit, 1, 1000))
            .Select(c => new CandleView(c.OpenTime, c.Open, c.High, c.Low, c.Close, c.Volume))]));
    }

    /// <summary>
    /// The <c>expire</c> reminder: takes every good-till-date order whose time has come off the book (its hold goes
    /// back like a cancel's), then sets the reminder for the next one. A reminder that fires late, or twice, expires
    /// nothing early and nothing twice: the book's own clock decides.
    /// </summary>
    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        if (reminderName != ExpiryReminder)
        {
            return;
        }
        var now = time.GetUtcNow();
        var collector = new Collector();
        foreach (var r in _state.Orders.Values.Where(r => r.IsOpen && r.ExpiresAt <= now).OrderBy(r => r.Number).ToList())
        {
            _book.Cancel(r.Number, CancelReason.Expired, ref collector);
        }
        if (collector.Cancels.Count > 0)
        {
            Apply(collector, _instrument!);
            await SaveAndFlushAsync();
        }
        await ScheduleExpiryAsync();
    }

    /// <summary>The retry timer's callback: runs what the outbox still holds.</summary>
    public Task RetryOutboxAsync() => FlushAsync();

    private string Stream => "trading/book/" + InstrumentId;

    private string EventId() => $"{Stream}:{++_state.EventSequence}";

    private BookOptions BookOptions() => new(SelfTradePrevention.CancelNewest, options.MaxPrice, Math.Min(options.MaxQuantity, Domain.Matching.BookOptions.QuantityLimit));

    private string? Validate(PlaceOrder o)
    {
        if (o.Instrument != InstrumentId)
        {
            return $"the order names {o.Instrument}, this book is {InstrumentId}";
        }
        if (o.ClientOrderId is null || !ClientIdPattern().IsMatch(o.ClientOrderId))
        {
            return "clientOrderId is 1-64 of [A-Za-z0-9._:-]";
        }
        if (!Enum.IsDefined(o.Side) || !Enum.IsDefined(o.Kind))
        {
            return "side is buy or sell; kind is limit, market, immediateOrCancel, fillOrKill or postOnly";
        }
        if (o.Price < 1 || o.Price > options.MaxPrice)
        {
            return $"price is 1-{options.MaxPrice} (a market order's price is its protection limit)";
        }
        if (o.Quantity < 1 || o.Quantity > options.MaxQuantity)
        {
            return $"quantity is 1-{options.MaxQuantity}";
        }
        if ((Int128)o.Price * o.Quantity > long.MaxValue)
        {
            return "price × quantity overflows";
        }
        if (o.ExpiresAt is { } expiresAt)
        {
            if (o.Kind is not (OrderKind.Limit or OrderKind.PostOnly))
            {
                return "only limit and post-only orders rest on the book, so only they take expiresAt";
            }
            var now = time.GetUtcNow();
            if (expiresAt <= now || expiresAt > now + options.MaxOrderLifetime)
            {
                return $"expiresAt is after now and at most {options.MaxOrderLifetime} ahead";
            }
        }
        return null;
    }

    private OrderRecord? Owned(string playerId, string orderId) =>
        _state.Orders.TryGetValue(orderId, out var r) && r.PlayerId == playerId ? r : null;

    private long OwnerOf(string playerId)
    {
        if (!_state.Owners.TryGetValue(playerId, out var owner))
        {
            owner = _state.NextOwner++;
            _state.Owners[playerId] = owner;
        }
        return owner;
    }

    private void Add(OrderRecord record)
    {
        _state.Orders[record.OrderId] = record;
        _state.ClientOrders[record.PlayerId + "/" + record.ClientOrderId] = record.OrderId;
    }

    private void Reject(OrderRecord record, string code, string message, bool releaseHold)
    {
        record.Status = "rejected";
        record.RejectCode = code;
        record.Reason = message;
        record.ClosedAt = time.GetUtcNow();
        Add(record);
        if (releaseHold)
        {
            Release(record, record.Held);
        }
        Emit(new TradingOrderRejected
        {
            Id = EventId(), OccurredAt = time.GetUtcNow(), StreamId = Stream, Sequence = _state.EventSequence,
            Instrument = InstrumentId, PlayerId = record.PlayerId, ClientOrderId = record.ClientOrderId, Code = code, Reason = message,
        });
    }

    /// <summary>Turns what the engine reported into order records, settlements, hold releases, events and market data.</summary>
    private void Apply(Collector c, Instrument instrument)
    {
        var now = time.GetUtcNow();
        foreach (var f in c.Fills)
        {
            var maker = ByNumber(f.MakerOrderId);
            var taker = ByNumber(f.TakerOrderId);
            var (buy, sell) = maker.Side == OrderSide.Buy ? (maker, taker) : (taker, maker);
            var fillId = $"f-{InstrumentId}-{f.Sequence}";
            var proceeds = f.Price * f.Quantity;
            var fee = options.FeeOn(proceeds);
            foreach (var r in new[] { buy, sell })
            {
                r.Filled += f.Quantity;
                r.FillIds.Add(fillId);
            }
            buy.Committed += proceeds;
            sell.Committed += f.Quantity;
            _state.Outbox.Add(new OutboxItem(null, new SettlementStart(fillId,
                new FillTerms(buy.PlayerId, sell.PlayerId, buy.HoldId, sell.HoldId, instrument.Currency, f.Price, f.Quantity, instrument.ItemType, fee, InstrumentId),
                null, null, null), null));
            Emit(new TradingFill
            {
                Id = EventId(), OccurredAt = now, StreamId = Stream, Sequence = _state.EventSequence,
                Instrument = InstrumentId, FillId = fillId, BuyerId = buy.PlayerId, SellerId = sell.PlayerId,
                BuyOrderId = buy.OrderId, SellOrderId = sell.OrderId, TakerSide = FromSide(f.TakerSide), Price = f.Price, Quantity = f.Quantity,
                BookSequence = f.Sequence,
            });
            _state.Tape.Add(new TapeEntry(f.Sequence, f.Price, f.Quantity, FromSide(f.TakerSide), now));
            _candles.Add(f.Price, f.Quantity, now);
            foreach (var (r, done) in new[] { (maker, f.MakerDone), (taker, f.TakerDone) })
            {
                if (done && r.Filled == r.Quantity)
                {
                    Close(r, "filled", null);
                }
            }
        }
        foreach (var x in c.Cancels)
        {
            if (x.Reason == CancelReason.Replaced && !c.Rejected.Contains(x.OrderId))
            {
                // A replace that lost its place: the same order goes on under its new terms (its submit follows).
                continue;
            }
            var r = ByNumber(x.OrderId);
            Close(r, "cancelled", CancelText(x.Reason));
            Emit(new TradingOrderCancelled
            {
                Id = EventId(), OccurredAt = now, StreamId = Stream, Sequence = _state.EventSequence,
                Instrument = InstrumentId, OrderId = r.OrderId, PlayerId = r.PlayerId, Remaining = x.Remaining, Reason = CancelText(x.Reason),
            });
        }
        if (c.Depth.Count > 0)
        {
            Emit(new TradingBookDelta
            {
                Id = EventId(), OccurredAt = now, StreamId = Stream, Sequence = _state.EventSequence,
                Instrument = InstrumentId, FromSequence = c.Depth[0].BookSequence, ToSequence = c.Depth[^1].BookSequence, Changes = [.. c.Depth],
            });
        }
        if (_state.Tape.Count > TapeKept)
        {
            _state.Tape.RemoveRange(0, _state.Tape.Count - TapeKept);
        }
    }

    /// <summary>An order leaves the book: what its hold has beyond what its fills claimed goes back to the player.</summary>
    private void Close(OrderRecord r, string status, string? reason)
    {
        if (!r.IsOpen)
        {
            return;
        }
        r.Status = status;
        r.Reason = reason;
        r.ClosedAt = time.GetUtcNow();
        Release(r, r.Held - r.Committed);
    }

    private void Release(OrderRecord r, long amount)
    {
        if (amount <= 0)
        {
            return;
        }
        var instrument = _instrument!;
        // All of it: the hold closes. Part of it: the rest stays for the settlements still to capture it.
        var assets = amount == r.Held ? new AssetBundle()
            : r.Side == OrderSide.Buy ? Currency(instrument.Currency, amount) : Items(instrument.ItemType, amount);
        _state.Outbox.Add(new OutboxItem(null, null, new WalletCall(r.PlayerId, WalletOp.Release, r.HoldId + ":release", r.HoldId, assets, $"order {r.OrderId} closed")));
    }

    private OrderRecord ByNumber(long number) =>
        _state.Orders[number.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    private void Emit(IntegrationEvent evt) => _state.Outbox.Add(new OutboxItem(StoredEvent.Of(evt), null, null));

    private ActorReply<OrderView> Answer(OrderRecord r) => r.Status == "rejected"
        ? Reply.Fail<OrderView>(r.RejectCode ?? TradingErrorCodes.Invalid, r.Reason ?? "rejected")
        : Reply.Ok<OrderView>(r.View(InstrumentId));

    /// <summary>Points the <c>expire</c> reminder at the earliest open order's expiry, or removes it when none is left.</summary>
    private async Task ScheduleExpiryAsync()
    {
        var next = _state.Orders.Values.Where(r => r.IsOpen && r.ExpiresAt is not null).Min(r => r.ExpiresAt);
        if (next == _state.ExpiryDue)
        {
            return;
        }
        if (next is { } at)
        {
            var dueIn = at - time.GetUtcNow();
            // The period is a backstop: if a firing is lost, the reminder comes back and the book looks again.
            await RegisterReminderAsync(ExpiryReminder, null, dueIn > TimeSpan.Zero ? dueIn : TimeSpan.Zero, TimeSpan.FromMinutes(1));
        }
        else
        {
            await UnregisterReminderAsync(ExpiryReminder);
        }
        _state.ExpiryDue = next;
        await SaveAsync();
    }

    private async Task SaveAndFlushAsync()
    {
        Trim();
        await SaveAsync();
        await FlushAsync();
    }

    private async Task SaveAsync()
    {
        _state.Sequence = _book.Sequence;
        _state.Resting = [.. _book.ExportOrders()];
        await StateManager.SetStateAsync(StateKey, _state);
        await StateManager.SaveStateAsync();
    }

    /// <summary>Keeps the closed orders (and their client ids) bounded: the oldest beyond <see cref="ClosedOrdersKept"/> go.</summary>
    private void Trim()
    {
        var closed = _state.Orders.Values.Where(r => !r.IsOpen).ToList();
        if (closed.Count <= ClosedOrdersKept)
        {
            return;
        }
        foreach (var r in closed.OrderBy(r => r.Number).Take(closed.Count - ClosedOrdersKept))
        {
            _state.Orders.Remove(r.OrderId);
            _state.ClientOrders.Remove(r.PlayerId + "/" + r.ClientOrderId);
        }
    }

    /// <summary>
    /// Runs the outbox in order. It is cleared in memory as it goes and saved cleared with the next change: after a
    /// crash the items run again, which every one of them absorbs (settlement start, keyed release, event id).
    /// </summary>
    private async Task FlushAsync()
    {
        var done = 0;
        var failed = false;
        foreach (var item in _state.Outbox)
        {
            try
            {
                if (item.Event is { } e)
                {
                    await publisher.PublishAsync(e, CancellationToken.None);
                }
                else if (item.Settlement is { } s)
                {
                    await actors.CallAsync<SettlementStart, SettlementView>(TradingActorClient.SettlementType, s.SettlementId, nameof(ISettlement.StartAsync), s);
                }
                else if (item.Wallet is { } w)
                {
                    var outcome = await WalletAsync(w);
                    if (!outcome.Ok && outcome.Error is not (LedgerError.HoldClosed or LedgerError.UnknownHold))
                    {
                        LogReleaseRefused(w.HoldId, outcome.Error, outcome.Message);
                    }
                }
            }
            catch (Exception error)
            {
                LogOutboxFailed(error, InstrumentId);
                failed = true;
                break;
            }
            done++;
        }
        _state.Outbox.RemoveRange(0, done);
        if (failed && !_retrying)
        {
            _retrying = true;
            await RegisterTimerAsync(RetryTimer, nameof(RetryOutboxAsync), null, TimeSpan.FromSeconds(1), options.SettlementRetry);
        }
        else if (!failed && _retrying)
        {
            _retrying = false;
            await UnregisterTimerAsync(RetryTimer);
        }
    }

    /// <summary>Intents left by a crash: the hold may exist without an order, so it is released.</summary>
    private async Task ResolvePendingAsync()
    {
        foreach (var p in _state.Pending.ToList())
        {
            if (_state.Orders.ContainsKey(p.OrderId))
            {
                continue;
            }
            _state.Outbox.Add(new OutboxItem(null, null, new WalletCall(p.PlayerId, WalletOp.Release, p.HoldId + ":release", p.HoldId, new AssetBundle(), $"order {p.OrderId} never placed")));
        }
        _state.Pending.Clear();
        await SaveAsync();
    }

    private Task<LedgerOutcome> WalletAsync(WalletCall call) =>
        actors.CallAsync<WalletCall, LedgerOutcome>(TradingActorClient.WalletType, call.PlayerId, nameof(IWallet.ApplyAsync), call);

    private static AssetBundle Currency(string code, long amount) => new() { Currencies = { [code] = amount } };

    private static AssetBundle Items(string type, long count) => new() { Stacks = { [type] = count } };

    private static Side ToSide(OrderSide side) => side == OrderSide.Buy ? Side.Buy : Side.Sell;

    private static OrderSide FromSide(Side side) => side == Side.Buy ? OrderSide.Buy : OrderSide.Sell;

    private static OrderType ToType(OrderKind kind) => kind switch
    {
        OrderKind.Limit => OrderType.Limit,
        OrderKind.Market => OrderType.Market,
        OrderKind.ImmediateOrCancel => OrderType.ImmediateOrCancel,
        OrderKind.FillOrKill => OrderType.FillOrKill,
        _ => OrderType.PostOnly,
    };

    private static string CancelText(CancelReason reason) => reason switch
    {
        CancelReason.Requested => "requested",
        CancelReason.Replaced => "replaced",
        CancelReason.SelfTrade => "self_trade",
        CancelReason.PostOnlyWouldCross => "would_cross",
        CancelReason.Expired => "expired",
        _ => "unfilled",
    };

    private static (string Code, string Message) RejectCode(RejectReason reason) => reason switch
    {
        RejectReason.PostOnlyWouldCross => (TradingErrorCodes.WouldCross, "a post-only order would have crossed the book"),
        RejectReason.FillOrKillNotFillable => (TradingErrorCodes.NotFillable, "a fill-or-kill order could not fill whole"),
        RejectReason.NoLiquidity => (TradingErrorCodes.NoLiquidity, "nothing to match on the other side"),
        _ => (TradingErrorCodes.Invalid, $"the engine refused the order: {reason}"),
    };

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex ClientIdPattern();

    [LoggerMessage(Level = LogLevel.Warning, Message = "order book {Instrument}: outbox item failed; retrying")]
    private partial void LogOutboxFailed(Exception error, string instrument);

    [LoggerMessage(Level = LogLevel.Error, Message = "release of hold {HoldId} refused: {Error} {Detail}")]
    private partial void LogReleaseRefused(string? holdId, LedgerError error, string? detail);

    /// <summary>Collects what one engine command reported, for the actor to apply after it.</summary>
    private sealed class Collector : IBookListener
    {
        public List<Fill> Fills { get; } = [];

        public List<(long OrderId, long Remaining, CancelReason Reason)> Cancels { get; } = [];

        public List<DepthLevelChange> Depth { get; } = [];

        /// <summary>Orders the engine refused in this command (a replacement that could not go back on the book).</summary>
        public HashSet<long> Rejected { get; } = [];

        public void OnAccepted(in NewOrder order)
        {
        }

        public void OnRejected(in NewOrder order, RejectReason reason) => Rejected.Add(order.OrderId);

        public void OnFill(in Fill fill) => Fills.Add(fill);

        public void OnRested(long orderId, Side side, long price, long remaining)
        {
        }

        public void OnCancelled(long orderId, long ownerId, Side side, long price, long remaining, CancelReason reason) =>
            Cancels.Add((orderId, remaining, reason));

        public void OnDepthChanged(Side side, long price, long totalQuantityAtLevel, long sequence) =>
            Depth.Add(new DepthLevelChange(sequence, FromSide(side), price, totalQuantityAtLevel));
    }
}
