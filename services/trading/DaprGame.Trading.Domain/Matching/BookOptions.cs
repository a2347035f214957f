namespace DaprGame.Trading.Domain.Matching;

/// <summary>The fixed settings of one <see cref="OrderBook"/>.</summary>
/// <param name="MaxPrice">The highest accepted price, in minor units (at least 1).</param>
/// <param name="MaxQuantity">
/// The largest accepted quantity: 1..<see cref="QuantityLimit"/>, so the total of a price level (at most
/// <see cref="int.MaxValue"/> orders) can never overflow.
/// </param>
/// <param name="InitialCapacity">Orders the pools are sized for up front; they grow (amortised) beyond it.</param>
public sealed record BookOptions(
    SelfTradePrevention SelfTradePrevention = SelfTradePrevention.CancelNewest,
    long MaxPrice = 1_000_000_000_000,
    long MaxQuantity = 1_000_000_000,
    int InitialCapacity = 1024)
{
    /// <summary>The highest <see cref="MaxQuantity"/> a book accepts (2^32).</summary>
    public const long QuantityLimit = 1L << 32;

    internal void Validate()
    {
        if (!Enum.IsDefined(SelfTradePrevention))
        {
            throw new ArgumentOutOfRangeException(nameof(SelfTradePrevention), SelfTradePrevention, "not a defined self-trade prevention mode");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPrice, 1, nameof(MaxPrice));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQuantity, 1, nameof(MaxQuantity));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxQuantity, QuantityLimit, nameof(MaxQuantity));
        ArgumentOutOfRangeException.ThrowIfNegative(InitialCapacity, nameof(InitialCapacity));
    }
}
