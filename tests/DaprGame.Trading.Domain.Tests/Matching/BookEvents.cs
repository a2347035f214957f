using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.Tests.Matching;

/// <summary>One listener call, recorded so two engines (or an engine and the expected text) can be compared.</summary>
public abstract record BookEvent;

public sealed record Accepted(NewOrder Order) : BookEvent;

public sealed record Rejected(NewOrder Order, RejectReason Reason) : BookEvent;

public sealed record Filled(Fill Fill) : BookEvent;

public sealed record Rested(long OrderId, Side Side, long Price, long Remaining) : BookEvent;

public sealed record Cancelled(long OrderId, long OwnerId, Side Side, long Price, long Remaining, CancelReason Reason) : BookEvent;

public sealed record DepthChanged(Side Side, long Price, long Total, long Sequence) : BookEvent;

/// <summary>A listener that records every call, in order.</summary>
public struct Recorder : IBookListener
{
    private List<BookEvent>? _events;

    public List<BookEvent> Events => _events ??= [];

    public readonly IEnumerable<Fill> Fills => (_events ?? []).OfType<Filled>().Select(f => f.Fill);

    public void OnAccepted(in NewOrder order) => Events.Add(new Accepted(order));

    public void OnRejected(in NewOrder order, RejectReason reason) => Events.Add(new Rejected(order, reason));

    public void OnFill(in Fill fill) => Events.Add(new Filled(fill));

    public void OnRested(long orderId, Side side, long price, long remaining) => Events.Add(new Rested(orderId, side, price, remaining));

    public void OnCancelled(long orderId, long ownerId, Side side, long price, long remaining, CancelReason reason) =>
        Events.Add(new Cancelled(orderId, ownerId, side, price, remaining, reason));

    public void OnDepthChanged(Side side, long price, long totalQuantityAtLevel, long sequence) =>
        Events.Add(new DepthChanged(side, price, totalQuantityAtLevel, sequence));
}

/// <summary>A listener that ignores everything (replays, allocation checks).</summary>
public struct NullListener : IBookListener
{
    public int Fills { get; private set; }

    public readonly void OnAccepted(in NewOrder order)
    {
    }

    public readonly void OnRejected(in NewOrder order, RejectReason reason)
    {
    }

    public void OnFill(in Fill fill) => Fills++;

    public readonly void OnRested(long orderId, Side side, long price, long remaining)
    {
    }

    public readonly void OnCancelled(long orderId, long ownerId, Side side, long price, long remaining, CancelReason reason)
    {
    }

    public readonly void OnDepthChanged(Side side, long price, long totalQuantityAtLevel, long sequence)
    {
    }
}

/// <summary>A command of the journal: what the OrderBook actor would send to the engine.</summary>
public abstract record BookCommand
{
    public abstract RejectReason Apply<T>(OrderBook book, ref T listener)
        where T : IBookListener;

    public abstract RejectReason Apply(ReferenceBook model, List<BookEvent> events);
}

public sealed record SubmitCommand(NewOrder Order) : BookCommand
{
    public override RejectReason Apply<T>(OrderBook book, ref T listener) => book.Submit(Order, ref listener);

    public override RejectReason Apply(ReferenceBook model, List<BookEvent> events) => model.Submit(Order, events);

    public override string ToString() => $"Submit({Order.OrderId}, owner {Order.OwnerId}, {Order.Side}, {Order.Type}, {Order.Price}, {Order.Quantity})";
}

public sealed record CancelCommand(long OrderId) : BookCommand
{
    public override RejectReason Apply<T>(OrderBook book, ref T listener) => book.Cancel(OrderId, ref listener);

    public override RejectReason Apply(ReferenceBook model, List<BookEvent> events) => model.Cancel(OrderId, events);

    public override string ToString() => $"Cancel({OrderId})";
}

public sealed record ReplaceCommand(long OrderId, long Price, long Quantity) : BookCommand
{
    public override RejectReason Apply<T>(OrderBook book, ref T listener) => book.Replace(OrderId, Price, Quantity, ref listener);

    public override RejectReason Apply(ReferenceBook model, List<BookEvent> events) => model.Replace(OrderId, Price, Quantity, events);

    public override string ToString() => $"Replace({OrderId}, {Price}, {Quantity})";
}
