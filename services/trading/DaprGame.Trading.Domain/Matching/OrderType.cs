namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// How an incoming order treats the book. Only <see cref="Limit"/> and <see cref="PostOnly"/> orders ever rest;
/// the others take what they can and the remainder is cancelled (<see cref="CancelReason.Unfilled"/>).
/// Persisted and sent on the wire: never renumber.
/// </summary>
public enum OrderType : byte
{
    /// <summary>Matches what crosses its price, then rests the remainder at its price.</summary>
    Limit = 0,

    /// <summary>
    /// Takes liquidity up to a protection price (buy: the highest price it may pay; sell: the lowest it accepts,
    /// 0 for none); rejected with <see cref="RejectReason.NoLiquidity"/> when nothing on the other side is within it.
    /// </summary>
    Market = 1,

    /// <summary>A limit order whose remainder is cancelled instead of resting.</summary>
    ImmediateOrCancel = 2,

    /// <summary>Filled whole at once, or rejected whole (<see cref="RejectReason.FillOrKillNotFillable"/>) without touching the book.</summary>
    FillOrKill = 3,

    /// <summary>Rests only as a maker: rejected (<see cref="RejectReason.PostOnlyWouldCross"/>) if it would take.</summary>
    PostOnly = 4,
}
