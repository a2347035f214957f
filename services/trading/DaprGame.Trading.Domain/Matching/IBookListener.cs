namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// Receives everything an <see cref="OrderBook"/> command does, in order. The book's methods are generic over the
/// listener and take it by <c>ref</c>, so a struct listener is called directly (no boxing, no allocation) and may
/// keep state. A listener must not call back into the book it listens to.
/// </summary>
/// <remarks>
/// For one command the calls come in this order: <see cref="OnRejected"/> alone; or <see cref="OnAccepted"/>, then
/// per price level taken from (best first) the <see cref="OnFill"/> and self-trade <see cref="OnCancelled"/> calls
/// of its orders in time priority followed by one <see cref="OnDepthChanged"/> for that level, then the incoming
/// order's end: <see cref="OnRested"/> followed by <see cref="OnDepthChanged"/>, or <see cref="OnCancelled"/>, or
/// nothing when it was filled whole. A cancel is <see cref="OnCancelled"/> then <see cref="OnDepthChanged"/>. A
/// replace that keeps time priority is one <see cref="OnDepthChanged"/> (none when nothing changes); one that loses
/// it is a cancel (<see cref="CancelReason.Replaced"/>) followed by a submit's calls, from <see cref="OnAccepted"/>.
/// </remarks>
public interface IBookListener
{
    /// <summary>The order passed validation; fills (if any) follow.</summary>
    void OnAccepted(in NewOrder order);

    /// <summary>The order was refused; the book is unchanged.</summary>
    void OnRejected(in NewOrder order, RejectReason reason);

    /// <summary>A trade; <see cref="Fill.Sequence"/> is its sequence number.</summary>
    void OnFill(in Fill fill);

    /// <summary>The incoming order's remainder now rests on the book.</summary>
    void OnRested(long orderId, Side side, long price, long remaining);

    /// <summary>An order (resting, or the remainder of the incoming one) left the book without being filled.</summary>
    void OnCancelled(long orderId, long ownerId, Side side, long price, long remaining, CancelReason reason);

    /// <summary>An L2 increment: the total quantity now at a price level, 0 when the level is gone.</summary>
    void OnDepthChanged(Side side, long price, long totalQuantityAtLevel, long sequence);
}
