namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// Why a command was refused. A refused command changes nothing: no fill, no sequence number, no book change.
/// Sent on the wire: append only.
/// </summary>
public enum RejectReason : byte
{
    /// <summary>The command was carried out.</summary>
    None,

    /// <summary>Quantity outside 1..<see cref="BookOptions.MaxQuantity"/>.</summary>
    InvalidQuantity,

    /// <summary>Price outside 1..<see cref="BookOptions.MaxPrice"/> (0 is allowed only as a market sell's "no protection").</summary>
    InvalidPrice,

    /// <summary>An order with this id is resting on the book. Ids of finished orders are forgotten, so not detected.</summary>
    DuplicateOrderId,

    /// <summary>Cancel or replace of an id that is not resting on the book (never seen, filled or already cancelled).</summary>
    UnknownOrder,

    /// <summary>Price × quantity does not fit in a <see cref="long"/>.</summary>
    Overflow,

    /// <summary>A post-only order (or a replace of a resting post-only order) would take liquidity.</summary>
    PostOnlyWouldCross,

    /// <summary>A fill-or-kill order could not be filled whole (see <see cref="OrderBook"/> for how self-trade prevention counts).</summary>
    FillOrKillNotFillable,

    /// <summary>A market order found no resting order on the other side within its protection price.</summary>
    NoLiquidity,

    /// <summary>The side is not a defined <see cref="Side"/> value.</summary>
    InvalidSide,

    /// <summary>The order type is not a defined <see cref="OrderType"/> value.</summary>
    InvalidOrderType,
}
