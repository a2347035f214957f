using System.Numerics;
using System.Runtime.CompilerServices;

namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// A deterministic price-time-priority limit order book for one instrument, with integer prices and quantities.
/// Driven by one owner (the OrderBook actor): not thread-safe. The same commands from the same state produce the
/// same events, the same sequence numbers and the same <see cref="Hash"/>.
/// </summary>
/// <remarks>
/// <para><b>Sequence.</b> One counter, incremented once per <see cref="IBookListener.OnFill"/> and once per
/// <see cref="IBookListener.OnDepthChanged"/>, so a consumer of both feeds detects a gap. Refused commands take
/// no number. Depth changes are aggregated per level and command: an incoming order that takes ten orders from one
/// level produces ten fills and one depth change for that level.</para>
/// <para><b>Validation</b> (first failure wins): side, order type, quantity, price, overflow of price × quantity,
/// duplicate id; then by type: a post-only order that would cross, a fill-or-kill order that cannot be filled
/// whole, a market order with nothing within its protection price. Replace checks: unknown id, quantity, price,
/// overflow, then a resting post-only order that would cross at the new price.</para>
/// <para><b>Self-trade prevention</b> acts on the resting order the incoming order would match next. Fill-or-kill
/// counts it this way: under <see cref="SelfTradePrevention.CancelNewest"/> and
/// <see cref="SelfTradePrevention.CancelBoth"/> only the quantity of other owners ahead of the first order of the
/// same owner counts (matching would stop there); under <see cref="SelfTradePrevention.CancelOldest"/> all other
/// owners' quantity within the price counts, and the same owner's resting orders met on the way are cancelled as
/// the order fills. A post-only order that would cross only its own owner's orders is still rejected.</para>
/// <para><b>Replace</b> keeps time priority when the price is unchanged and the new quantity is at most the
/// remaining one (equal is a no-op: no event); otherwise it cancels the order
/// (<see cref="CancelReason.Replaced"/>) and submits a new order with the same id, owner and side, of type
/// <see cref="OrderType.Limit"/> (or <see cref="OrderType.PostOnly"/> if it was post-only), which may cross and fill.
/// Cancel and Replace report a refusal only through their return value: they have no <see cref="NewOrder"/> to
/// pass to <see cref="IBookListener.OnRejected"/>.</para>
/// <para><b>Layout</b> (target: 3 M commands/s on one core, no allocation per command; measured by the bench's
/// <c>trading-engine</c> scenario on the 2-core dev machine: about 10 M mixed commands/s, p50 about 100 ns, 0 B per
/// command, 5.7 times a SortedDictionary/LinkedList book on the same commands): orders live in a pooled struct array
/// linked into a doubly-linked FIFO per price level, levels in a second pool, each side's levels in a
/// <see cref="PriceLadder"/> and ids in an <see cref="OrderIdMap"/>. Pools grow by doubling and never shrink; freed
/// slots are reused through free lists. Keeping them no bigger than the book matters more than anything else here:
/// the commands' cost is cache misses.</para>
/// </remarks>
public sealed class OrderBook
{
    private const int Nil = -1;

    private readonly BookOptions _options;
    private readonly SelfTradePrevention _selfTrade;
    private readonly long _maxPrice;
    private readonly long _maxQuantity;
    private readonly PriceLadder _bids;
    private readonly PriceLadder _asks;
    private readonly OrderIdMap _ids;

    private OrderSlot[] _orders;
    private int _freeOrder = Nil;
    private int _usedOrders;

    private LevelSlot[] _levels;
    private int _freeLevel = Nil;
    private int _usedLevels;

    private long _sequence;

    /// <summary>An empty book.</summary>
    public OrderBook(BookOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _selfTrade = options.SelfTradePrevention;
        _maxPrice = options.MaxPrice;
        _maxQuantity = options.MaxQuantity;
        var capacity = Math.Max(options.InitialCapacity, 16);
        _orders = new OrderSlot[capacity];
        _levels = new LevelSlot[Math.Max(capacity / 4, 16)];
        _bids = new PriceLadder(Math.Max(capacity / 8, 16));
        _asks = new PriceLadder(Math.Max(capacity / 8, 16));
        _ids = new OrderIdMap(capacity);
    }

    /// <summary>The settings the book was created with.</summary>
    public BookOptions Options => _options;

    /// <summary>The number of the last fill or depth change (0 for a new book).</summary>
    public long Sequence => _sequence;

    /// <summary>The highest bid price, 0 when there is none.</summary>
    public long BestBid => _bids.Count == 0 ? 0 : _bids.BestKey;

    /// <summary>The lowest ask price, 0 when there is none.</summary>
    public long BestAsk => _asks.Count == 0 ? 0 : -_asks.BestKey;

    /// <summary>The number of resting orders.</summary>
    public int OrderCount => _ids.Count;

    /// <summary>The number of price levels on one side.</summary>
    public int LevelCount(Side side) => Ladder(side).Count;

    /// <summary>Validates <paramref name="order"/>, matches it, and rests or cancels what is left, reporting each step to <paramref name="listener"/>.</summary>
    /// <returns><see cref="RejectReason.None"/> when accepted, otherwise why it was refused (the book is then unchanged).</returns>
    public RejectReason Submit<T>(in NewOrder order, ref T listener)
        where T : IBookListener
    {
        var reason = Validate(in order);
        if (reason != RejectReason.None)
        {
            listener.OnRejected(in order, reason);
            return reason;
        }
        listener.OnAccepted(in order);
        Execute(order.OrderId, order.OwnerId, order.Side, order.Type, order.Price, order.Quantity, ref listener);
        return RejectReason.None;
    }

    /// <summary>Cancels a resting order (<see cref="CancelReason.Requested"/>).</summary>
    /// <returns><see cref="RejectReason.UnknownOrder"/> when no order with this id rests on the book.</returns>
    public RejectReason Cancel<T>(long orderId, ref T listener)
        where T : IBookListener => Cancel(orderId, CancelReason.Requested, ref listener);

    /// <summary>Takes a resting order off the book for <paramref name="reason"/> (the owner's request, or its expiry).</summary>
    /// <returns><see cref="RejectReason.UnknownOrder"/> when no order with this id rests on the book.</returns>
    public RejectReason Cancel<T>(long orderId, CancelReason reason, ref T listener)
        where T : IBookListener
    {
        var slot = _ids.Get(orderId);
        if (slot < 0)
        {
            return RejectReason.UnknownOrder;
        }
        CancelResting(slot, reason, ref listener);
        return RejectReason.None;
    }

    /// <summary>
    /// Changes a resting order's price and remaining quantity. Keeps its time priority when the price is unchanged
    /// and <paramref name="newQuantity"/> is not more than the remaining quantity; otherwise it is a cancel
    /// (<see cref="CancelReason.Replaced"/>) and a new submit at the back of the queue, which can cross and fill.
    /// </summary>
    /// <param name="newQuantity">The new remaining quantity.</param>
    public RejectReason Replace<T>(long orderId, long newPrice, long newQuantity, ref T listener)
        where T : IBookListener
    {
        var slot = _ids.Get(orderId);
        if (slot < 0)
        {
            return RejectReason.UnknownOrder;
        }
        if (!ValidQuantity(newQuantity))
        {
            return RejectReason.InvalidQuantity;
        }
        if (newPrice < 1 || newPrice > _maxPrice)
        {
            return RejectReason.InvalidPrice;
        }
        if (newPrice > long.MaxValue / newQuantity)
        {
            return RejectReason.Overflow;
        }

        ref var order = ref _orders[slot];
        if (newPrice == order.Price && newQuantity <= order.Remaining)
        {
            if (newQuantity < order.Remaining)
            {
                ref var level = ref _levels[order.Level];
                level.Total -= order.Remaining - newQuantity;
                order.Remaining = newQuantity;
                listener.OnDepthChanged(order.Side, order.Price, level.Total, ++_sequence);
            }
            return RejectReason.None;
        }

        var side = order.Side;
        var postOnly = order.PostOnly;
        if (postOnly && Crosses(side, newPrice))
        {
            return RejectReason.PostOnlyWouldCross;
        }
        var owner = order.OwnerId;
        CancelResting(slot, CancelReason.Replaced, ref listener);
        var replacement = new NewOrder(orderId, owner, side, postOnly ? OrderType.PostOnly : OrderType.Limit, newPrice, newQuantity);
        listener.OnAccepted(in replacement);
        Execute(orderId, owner, side, replacement.Type, newPrice, newQuantity, ref listener);
        return RejectReason.None;
    }

    /// <summary>The resting order with this id, if any.</summary>
    public bool TryGetOrder(long orderId, out RestingOrder order)
    {
        var slot = _ids.Get(orderId);
        if (slot < 0)
        {
            order = default;
            return false;
        }
        order = ToResting(in _orders[slot]);
        return true;
    }

    /// <summary>Up to <paramref name="depth"/> levels per side, best first, at the current <see cref="Sequence"/>.</summary>
    public BookSnapshot Snapshot(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        return new BookSnapshot(_sequence, Levels(_bids, depth), Levels(_asks, depth));
    }

    /// <summary>
    /// A hash of the sequence number and of every resting order (id, owner, side, price, remaining, post-only) in
    /// priority order: bids best first, then asks best first, time order within a level. Stable across processes,
    /// runtimes and machines (no randomized hashing), so a replayed or restored book can be compared with the original.
    /// </summary>
    public ulong Hash()
    {
        var h = 0x6A09E667F3BCC909UL;
        h = Mix(h, (ulong)_sequence);
        h = HashSide(h, _bids);
        h = Mix(h, 0x5EB5EB5EUL);
        h = HashSide(h, _asks);
        h = Mix(h, (ulong)_ids.Count);
        // Final avalanche (splitmix64) so nearby states give unrelated hashes.
        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27;
        h *= 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }

    /// <summary>Every resting order in priority order: bids best first, then asks best first, time order within a level.</summary>
    public RestingOrder[] ExportOrders()
    {
        var result = new RestingOrder[_ids.Count];
        var n = 0;
        foreach (var ladder in (ReadOnlySpan<PriceLadder>)[_bids, _asks])
        {
            for (var rank = 0; rank < ladder.Count; rank++)
            {
                for (var o = _levels[ladder.LevelByRank(rank)].Head; o != Nil; o = _orders[o].Next)
                {
                    result[n++] = ToResting(in _orders[o]);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Rebuilds a book from <see cref="ExportOrders"/> and <see cref="Sequence"/>: orders at the same price and side
    /// keep the order given, so the result has the same <see cref="Hash"/>. No listener is called.
    /// </summary>
    /// <exception cref="ArgumentException">An order is invalid for <paramref name="options"/>, an id repeats, or the result would be crossed.</exception>
    public static OrderBook Restore(BookOptions options, IEnumerable<RestingOrder> ordersInPriorityOrder, long sequence)
    {
        ArgumentNullException.ThrowIfNull(ordersInPriorityOrder);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        var book = new OrderBook(options);
        foreach (var o in ordersInPriorityOrder)
        {
            if (o.Side is not (Side.Buy or Side.Sell) || !book.ValidQuantity(o.Remaining) || o.Price < 1 || o.Price > book._maxPrice
                || o.Price > long.MaxValue / o.Remaining)
            {
                throw new ArgumentException($"order {o.OrderId} is not valid for these options: {o}", nameof(ordersInPriorityOrder));
            }
            if (book._ids.Get(o.OrderId) >= 0)
            {
                throw new ArgumentException($"order id {o.OrderId} appears twice", nameof(ordersInPriorityOrder));
            }
            book.Append(o.OrderId, o.OwnerId, o.Side, o.Price, o.Remaining, o.PostOnly);
        }
        if (book._bids.Count > 0 && book._asks.Count > 0 && book.BestBid >= book.BestAsk)
        {
            throw new ArgumentException($"the orders cross: best bid {book.BestBid} >= best ask {book.BestAsk}", nameof(ordersInPriorityOrder));
        }
        book._sequence = sequence;
        return book;
    }

    private RejectReason Validate(in NewOrder order)
    {
        if (order.Side is not (Side.Buy or Side.Sell))
        {
            return RejectReason.InvalidSide;
        }
        if (order.Type > OrderType.PostOnly)
        {
            return RejectReason.InvalidOrderType;
        }
        if (!ValidQuantity(order.Quantity))
        {
            return RejectReason.InvalidQuantity;
        }
        var minPrice = order.Type == OrderType.Market && order.Side == Side.Sell ? 0 : 1;
        if (order.Price < minPrice || order.Price > _maxPrice)
        {
            return RejectReason.InvalidPrice;
        }
        if (order.Price > long.MaxValue / order.Quantity)
        {
            return RejectReason.Overflow;
        }
        if (_ids.Get(order.OrderId) >= 0)
        {
            return RejectReason.DuplicateOrderId;
        }
        return order.Type switch
        {
            OrderType.PostOnly when Crosses(order.Side, order.Price) => RejectReason.PostOnlyWouldCross,
            OrderType.Market when !Crosses(order.Side, order.Price) => RejectReason.NoLiquidity,
            OrderType.FillOrKill when !CanFill(order.OwnerId, order.Side, order.Price, order.Quantity) => RejectReason.FillOrKillNotFillable,
            _ => RejectReason.None,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ValidQuantity(long quantity) => (ulong)(quantity - 1) < (ulong)_maxQuantity;

    /// <summary>The key below which an opposite level does not cross an incoming order at <paramref name="price"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long CrossKey(Side side, long price) => side == Side.Buy ? -price : price;

    private bool Crosses(Side side, long price)
    {
        var opposite = side == Side.Buy ? _asks : _bids;
        return opposite.Count > 0 && opposite.BestKey >= CrossKey(side, price);
    }

    /// <summary>Whether a fill-or-kill order can be filled whole (see the remarks on self-trade prevention).</summary>
    private bool CanFill(long owner, Side side, long price, long quantity)
    {
        var opposite = side == Side.Buy ? _asks : _bids;
        var limit = CrossKey(side, price);
        var skipOwn = _selfTrade == SelfTradePrevention.CancelOldest;
        var available = 0L;
        for (var index = opposite.Count - 1; index >= 0; index--)
        {
            if (opposite.KeyAt(index) < limit)
            {
                return false;
            }
            var level = opposite.LevelAt(index);
            for (var o = _levels[level].Head; o != Nil; o = _orders[o].Next)
            {
                ref var resting = ref _orders[o];
                if (resting.OwnerId == owner)
                {
                    if (skipOwn)
                    {
                        continue;
                    }
                    return false;
                }
                available += resting.Remaining;
                if (available >= quantity)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>Matches an accepted order, then rests or cancels its remainder.</summary>
    private void Execute<T>(long orderId, long owner, Side side, OrderType type, long price, long quantity, ref T listener)
        where T : IBookListener
    {
        var remaining = quantity;
        var opposite = side == Side.Buy ? _asks : _bids;
        var makerSide = side == Side.Buy ? Side.Sell : Side.Buy;
        var limit = CrossKey(side, price);
        var selfTradeStop = false;
        while (opposite.Count > 0 && opposite.BestKey >= limit)
        {
            var levelSlot = opposite.BestLevel;
            ref var level = ref _levels[levelSlot];
            var changed = false;
            while (level.Head != Nil)
            {
                var makerSlot = level.Head;
                ref var maker = ref _orders[makerSlot];
                if (maker.OwnerId == owner)
                {
                    if (_selfTrade == SelfTradePrevention.CancelNewest)
                    {
                        selfTradeStop = true;
                        break;
                    }
                    listener.OnCancelled(maker.OrderId, maker.OwnerId, makerSide, level.Price, maker.Remaining, CancelReason.SelfTrade);
                    level.Total -= maker.Remaining;
                    RemoveHead(ref level, makerSlot);
                    changed = true;
                    if (_selfTrade == SelfTradePrevention.CancelBoth)
                    {
                        selfTradeStop = true;
                        break;
                    }
                    continue;
                }

                var quantityFilled = Math.Min(remaining, maker.Remaining);
                maker.Remaining -= quantityFilled;
                remaining -= quantityFilled;
                level.Total -= quantityFilled;
                changed = true;
                var makerDone = maker.Remaining == 0;
                var fill = new Fill(++_sequence, maker.OrderId, maker.OwnerId, orderId, owner, side, level.Price, quantityFilled, makerDone, remaining == 0);
                if (makerDone)
                {
                    RemoveHead(ref level, makerSlot);
                }
                listener.OnFill(in fill);
                if (remaining == 0)
                {
                    break;
                }
            }

            if (changed)
            {
                listener.OnDepthChanged(makerSide, level.Price, level.Total, ++_sequence);
            }
            if (level.Head == Nil)
            {
                opposite.RemoveBest();
                FreeLevel(levelSlot);
            }
            if (remaining == 0 || selfTradeStop)
            {
                break;
            }
        }

        if (remaining == 0)
        {
            return;
        }
        if (selfTradeStop)
        {
            listener.OnCancelled(orderId, owner, side, price, remaining, CancelReason.SelfTrade);
        }
        else if (type is OrderType.Limit or OrderType.PostOnly)
        {
            var total = Append(orderId, owner, side, price, remaining, type == OrderType.PostOnly);
            listener.OnRested(orderId, side, price, remaining);
            listener.OnDepthChanged(side, price, total, ++_sequence);
        }
        else
        {
            listener.OnCancelled(orderId, owner, side, price, remaining, CancelReason.Unfilled);
        }
    }

    /// <summary>Puts an order at the back of its level (created if needed); returns the level's new total.</summary>
    private long Append(long orderId, long owner, Side side, long price, long remaining, bool postOnly)
    {
        var ladder = Ladder(side);
        var key = side == Side.Buy ? price : -price;
        var index = ladder.Search(key);
        int levelSlot;
        if (index >= 0)
        {
            levelSlot = ladder.LevelAt(index);
        }
        else
        {
            levelSlot = AllocateLevel(price);
            ladder.InsertAt(~index, key, levelSlot);
        }
        var slot = AllocateOrder();
        ref var level = ref _levels[levelSlot];
        ref var order = ref _orders[slot];
        order.OrderId = orderId;
        order.OwnerId = owner;
        order.Price = price;
        order.Remaining = remaining;
        order.Level = levelSlot;
        order.Side = side;
        order.PostOnly = postOnly;
        order.Next = Nil;
        order.Prev = level.Tail;
        if (level.Tail == Nil)
        {
            level.Head = slot;
        }
        else
        {
            _orders[level.Tail].Next = slot;
        }
        level.Tail = slot;
        level.Count++;
        level.Total += remaining;
        _ids.Add(orderId, slot);
        return level.Total;
    }

    /// <summary>Removes a resting order from anywhere in its level, reporting the cancel and the depth change.</summary>
    private void CancelResting<T>(int slot, CancelReason reason, ref T listener)
        where T : IBookListener
    {
        ref var order = ref _orders[slot];
        var levelSlot = order.Level;
        ref var level = ref _levels[levelSlot];
        var side = order.Side;
        var price = order.Price;
        listener.OnCancelled(order.OrderId, order.OwnerId, side, price, order.Remaining, reason);
        level.Total -= order.Remaining;
        if (order.Prev == Nil)
        {
            level.Head = order.Next;
        }
        else
        {
            _orders[order.Prev].Next = order.Next;
        }
        if (order.Next == Nil)
        {
            level.Tail = order.Prev;
        }
        else
        {
            _orders[order.Next].Prev = order.Prev;
        }
        level.Count--;
        _ids.Remove(order.OrderId);
        FreeOrder(slot);
        var total = level.Total;
        if (level.Count == 0)
        {
            var ladder = Ladder(side);
            var index = ladder.Search(side == Side.Buy ? price : -price);
            ladder.RemoveAt(index);
            FreeLevel(levelSlot);
        }
        listener.OnDepthChanged(side, price, total, ++_sequence);
    }

    /// <summary>Unlinks the first order of a level (filled or self-trade cancelled) and frees it; the caller adjusts the total.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RemoveHead(ref LevelSlot level, int slot)
    {
        ref var order = ref _orders[slot];
        level.Head = order.Next;
        if (order.Next == Nil)
        {
            level.Tail = Nil;
        }
        else
        {
            _orders[order.Next].Prev = Nil;
        }
        level.Count--;
        _ids.Remove(order.OrderId);
        FreeOrder(slot);
    }

    private PriceLadder Ladder(Side side) => side == Side.Buy ? _bids : _asks;

    private int AllocateOrder()
    {
        if (_freeOrder != Nil)
        {
            var slot = _freeOrder;
            _freeOrder = _orders[slot].Next;
            return slot;
        }
        if (_usedOrders == _orders.Length)
        {
            Array.Resize(ref _orders, _orders.Length * 2);
        }
        return _usedOrders++;
    }

    private void FreeOrder(int slot)
    {
        _orders[slot].Next = _freeOrder;
        _freeOrder = slot;
    }

    private int AllocateLevel(long price)
    {
        int slot;
        if (_freeLevel != Nil)
        {
            slot = _freeLevel;
            _freeLevel = _levels[slot].Head;
        }
        else
        {
            if (_usedLevels == _levels.Length)
            {
                Array.Resize(ref _levels, _levels.Length * 2);
            }
            slot = _usedLevels++;
        }
        _levels[slot] = new LevelSlot { Price = price, Head = Nil, Tail = Nil };
        return slot;
    }

    private void FreeLevel(int slot)
    {
        _levels[slot].Head = _freeLevel;
        _freeLevel = slot;
    }

    private DepthLevel[] Levels(PriceLadder ladder, int depth)
    {
        var result = new DepthLevel[Math.Min(depth, ladder.Count)];
        for (var rank = 0; rank < result.Length; rank++)
        {
            ref var level = ref _levels[ladder.LevelByRank(rank)];
            result[rank] = new DepthLevel(level.Price, level.Total, level.Count);
        }
        return result;
    }

    private ulong HashSide(ulong h, PriceLadder ladder)
    {
        for (var rank = 0; rank < ladder.Count; rank++)
        {
            for (var o = _levels[ladder.LevelByRank(rank)].Head; o != Nil; o = _orders[o].Next)
            {
                ref var order = ref _orders[o];
                h = Mix(h, (ulong)order.OrderId);
                h = Mix(h, (ulong)order.OwnerId);
                h = Mix(h, (ulong)order.Price);
                h = Mix(h, (ulong)order.Remaining);
                h = Mix(h, (ulong)order.Side | (order.PostOnly ? 0x100UL : 0UL));
            }
        }
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong h, ulong value) => BitOperations.RotateLeft(h ^ (value * 0x9E3779B97F4A7C15UL), 29) * 0xD6E8FEB86659FD93UL;

    private static RestingOrder ToResting(in OrderSlot o) => new(o.OrderId, o.OwnerId, o.Side, o.Price, o.Remaining, o.PostOnly);

    /// <summary>A pooled order: linked into its level's FIFO while resting, into the free list (<see cref="Next"/>) otherwise.</summary>
    private struct OrderSlot
    {
        public long OrderId;
        public long OwnerId;
        public long Price;
        public long Remaining;
        public int Next;
        public int Prev;
        public int Level;
        public Side Side;
        public bool PostOnly;
    }

    /// <summary>A pooled price level: the FIFO of its orders and their total; <see cref="Head"/> links the free list.</summary>
    private struct LevelSlot
    {
        public long Price;
        public long Total;
        public int Count;
        public int Head;
        public int Tail;
    }
}
