using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.Tests.Matching;

/// <summary>
/// A deliberately simple order book to check the engine against: each side is one list sorted by price (best
/// first) then arrival, searched linearly; sums are recomputed; overflow is checked with 128-bit arithmetic.
/// It follows the rules as the engine documents them, written out step by step, with no attention to speed.
/// </summary>
public sealed class ReferenceBook(BookOptions options)
{
    private readonly List<Order> _bids = [];
    private readonly List<Order> _asks = [];
    private long _arrivals;

    public long Sequence { get; private set; }

    public long BestBid => _bids.Count == 0 ? 0 : _bids[0].Price;

    public long BestAsk => _asks.Count == 0 ? 0 : _asks[0].Price;

    public int OrderCount => _bids.Count + _asks.Count;

    public RejectReason Submit(NewOrder order, List<BookEvent> events)
    {
        var reason = Check(order);
        if (reason != RejectReason.None)
        {
            events.Add(new Rejected(order, reason));
            return reason;
        }
        events.Add(new Accepted(order));
        Match(order, events);
        return RejectReason.None;
    }

    public RejectReason Cancel(long orderId, List<BookEvent> events)
    {
        var order = Find(orderId);
        if (order is null)
        {
            return RejectReason.UnknownOrder;
        }
        Remove(order, CancelReason.Requested, events);
        return RejectReason.None;
    }

    public RejectReason Replace(long orderId, long price, long quantity, List<BookEvent> events)
    {
        var order = Find(orderId);
        if (order is null)
        {
            return RejectReason.UnknownOrder;
        }
        if (quantity < 1 || quantity > options.MaxQuantity)
        {
            return RejectReason.InvalidQuantity;
        }
        if (price < 1 || price > options.MaxPrice)
        {
            return RejectReason.InvalidPrice;
        }
        if ((Int128)price * quantity > long.MaxValue)
        {
            return RejectReason.Overflow;
        }
        if (price == order.Price && quantity <= order.Remaining)
        {
            if (quantity < order.Remaining)
            {
                order.Remaining = quantity;
                events.Add(new DepthChanged(order.Side, price, LevelTotal(order.Side, price), ++Sequence));
            }
            return RejectReason.None;
        }
        if (order.PostOnly && Opposite(order.Side).Any(r => Crosses(order.Side, price, r)))
        {
            return RejectReason.PostOnlyWouldCross;
        }
        Remove(order, CancelReason.Replaced, events);
        var replacement = new NewOrder(orderId, order.Owner, order.Side, order.PostOnly ? OrderType.PostOnly : OrderType.Limit, price, quantity);
        events.Add(new Accepted(replacement));
        Match(replacement, events);
        return RejectReason.None;
    }

    /// <summary>Resting orders in priority order: bids best first, then asks best first.</summary>
    public List<RestingOrder> Orders() =>
        [.. _bids.Concat(_asks).Select(o => new RestingOrder(o.Id, o.Owner, o.Side, o.Price, o.Remaining, o.PostOnly))];

    private RejectReason Check(NewOrder order)
    {
        if (order.Side != Side.Buy && order.Side != Side.Sell)
        {
            return RejectReason.InvalidSide;
        }
        if (!Enum.IsDefined(order.Type))
        {
            return RejectReason.InvalidOrderType;
        }
        if (order.Quantity < 1 || order.Quantity > options.MaxQuantity)
        {
            return RejectReason.InvalidQuantity;
        }
        var lowest = order.Type == OrderType.Market && order.Side == Side.Sell ? 0 : 1;
        if (order.Price < lowest || order.Price > options.MaxPrice)
        {
            return RejectReason.InvalidPrice;
        }
        if ((Int128)order.Price * order.Quantity > long.MaxValue)
        {
            return RejectReason.Overflow;
        }
        if (Find(order.OrderId) is not null)
        {
            return RejectReason.DuplicateOrderId;
        }
        var reachable = Opposite(order.Side).Where(r => Crosses(order.Side, order.Price, r)).ToList();
        if (order.Type == OrderType.PostOnly && reachable.Count > 0)
        {
            return RejectReason.PostOnlyWouldCross;
        }
        if (order.Type == OrderType.Market && reachable.Count == 0)
        {
            return RejectReason.NoLiquidity;
        }
        if (order.Type == OrderType.FillOrKill)
        {
            long available = 0;
            foreach (var r in reachable)
            {
                if (r.Owner == order.OwnerId)
                {
                    if (options.SelfTradePrevention == SelfTradePrevention.CancelOldest)
                    {
                        continue;
                    }
                    break;
                }
                available += r.Remaining;
            }
            if (available < order.Quantity)
            {
                return RejectReason.FillOrKillNotFillable;
            }
        }
        return RejectReason.None;
    }

    private void Match(NewOrder order, List<BookEvent> events)
    {
        var opposite = Opposite(order.Side);
        var makerSide = order.Side == Side.Buy ? Side.Sell : Side.Buy;
        var remaining = order.Quantity;
        var selfTrade = false;
        while (remaining > 0 && !selfTrade && opposite.Count > 0 && Crosses(order.Side, order.Price, opposite[0]))
        {
            var levelPrice = opposite[0].Price;
            var changed = false;
            while (remaining > 0 && opposite.Count > 0 && opposite[0].Price == levelPrice)
            {
                var maker = opposite[0];
                if (maker.Owner == order.OwnerId)
                {
                    if (options.SelfTradePrevention == SelfTradePrevention.CancelNewest)
                    {
                        selfTrade = true;
                        break;
                    }
                    events.Add(new Cancelled(maker.Id, maker.Owner, maker.Side, maker.Price, maker.Remaining, CancelReason.SelfTrade));
                    opposite.RemoveAt(0);
                    changed = true;
                    if (options.SelfTradePrevention == SelfTradePrevention.CancelBoth)
                    {
                        selfTrade = true;
                        break;
                    }
                    continue;
                }
                var quantity = Math.Min(remaining, maker.Remaining);
                maker.Remaining -= quantity;
                remaining -= quantity;
                events.Add(new Filled(new Fill(++Sequence, maker.Id, maker.Owner, order.OrderId, order.OwnerId, order.Side, maker.Price, quantity,
                    maker.Remaining == 0, remaining == 0)));
                if (maker.Remaining == 0)
                {
                    opposite.RemoveAt(0);
                }
                changed = true;
            }
            if (changed)
            {
                events.Add(new DepthChanged(makerSide, levelPrice, LevelTotal(makerSide, levelPrice), ++Sequence));
            }
        }

        if (remaining == 0)
        {
            return;
        }
        if (selfTrade)
        {
            events.Add(new Cancelled(order.OrderId, order.OwnerId, order.Side, order.Price, remaining, CancelReason.SelfTrade));
        }
        else if (order.Type is OrderType.Limit or OrderType.PostOnly)
        {
            var side = Own(order.Side);
            side.Add(new Order(order.OrderId, order.OwnerId, order.Side, order.Price, remaining, order.Type == OrderType.PostOnly, ++_arrivals));
            side.Sort((a, b) => a.Price != b.Price
                ? (order.Side == Side.Buy ? b.Price.CompareTo(a.Price) : a.Price.CompareTo(b.Price))
                : a.Arrival.CompareTo(b.Arrival));
            events.Add(new Rested(order.OrderId, order.Side, order.Price, remaining));
            events.Add(new DepthChanged(order.Side, order.Price, LevelTotal(order.Side, order.Price), ++Sequence));
        }
        else
        {
            events.Add(new Cancelled(order.OrderId, order.OwnerId, order.Side, order.Price, remaining, CancelReason.Unfilled));
        }
    }

    private void Remove(Order order, CancelReason reason, List<BookEvent> events)
    {
        Own(order.Side).Remove(order);
        events.Add(new Cancelled(order.Id, order.Owner, order.Side, order.Price, order.Remaining, reason));
        events.Add(new DepthChanged(order.Side, order.Price, LevelTotal(order.Side, order.Price), ++Sequence));
    }

    private static bool Crosses(Side incoming, long price, Order resting) =>
        incoming == Side.Buy ? resting.Price <= price : resting.Price >= price;

    private long LevelTotal(Side side, long price) => Own(side).Where(o => o.Price == price).Sum(o => o.Remaining);

    private Order? Find(long id) => _bids.Concat(_asks).FirstOrDefault(o => o.Id == id);

    private List<Order> Own(Side side) => side == Side.Buy ? _bids : _asks;

    private List<Order> Opposite(Side side) => side == Side.Buy ? _asks : _bids;

    private sealed class Order(long id, long owner, Side side, long price, long remaining, bool postOnly, long arrival)
    {
        public long Id { get; } = id;

        public long Owner { get; } = owner;

        public Side Side { get; } = side;

        public long Price { get; } = price;

        public long Remaining { get; set; } = remaining;

        public bool PostOnly { get; } = postOnly;

        public long Arrival { get; } = arrival;
    }
}
