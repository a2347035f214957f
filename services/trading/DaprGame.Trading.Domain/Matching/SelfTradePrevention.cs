namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// What happens when an incoming order reaches a resting order of the same owner. In every mode no fill is ever
/// made between an owner and itself (alts and bots self-trade to launder currency or fake volume).
/// </summary>
public enum SelfTradePrevention : byte
{
    /// <summary>The incoming order's remainder is cancelled (<see cref="CancelReason.SelfTrade"/>); the resting order stays.</summary>
    CancelNewest = 0,

    /// <summary>The resting order is cancelled and matching goes on with the next resting order.</summary>
    CancelOldest = 1,

    /// <summary>Both the resting order and the incoming order's remainder are cancelled.</summary>
    CancelBoth = 2,
}
