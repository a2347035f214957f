namespace DaprGame.Trading.Domain.Matching;

/// <summary>Why an order (or an incoming order's remainder) left the book. Sent on the wire: append only.</summary>
public enum CancelReason : byte
{
    /// <summary>The owner cancelled it.</summary>
    Requested,

    /// <summary>A replace that loses time priority cancels the old order before the new one is submitted.</summary>
    Replaced,

    /// <summary>Self-trade prevention (see <see cref="SelfTradePrevention"/>).</summary>
    SelfTrade,

    /// <summary>The remainder of a market or immediate-or-cancel order that found nothing more to take.</summary>
    Unfilled,

    /// <summary>
    /// Not emitted by <see cref="OrderBook"/>: a post-only order that would cross is rejected before it touches the
    /// book (<see cref="RejectReason.PostOnlyWouldCross"/>). Kept so the wire numbering stays stable.
    /// </summary>
    PostOnlyWouldCross,

    /// <summary>A good-till-date order reached its expiry time (decided by the host, which owns the clock).</summary>
    Expired,
}
