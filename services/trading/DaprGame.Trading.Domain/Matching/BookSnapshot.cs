namespace DaprGame.Trading.Domain.Matching;

/// <summary>One aggregated price level (L2).</summary>
/// <param name="Quantity">The sum of the remaining quantities of the orders at this price.</param>
public readonly record struct DepthLevel(long Price, long Quantity, int OrderCount);

/// <summary>
/// The top of both sides of a book at one <see cref="Sequence"/>: a consumer applies the increments numbered after
/// it (see <see cref="MarketData.L2Mirror"/>). Levels are best first: bids from the highest price, asks from the lowest.
/// </summary>
public sealed record BookSnapshot(long Sequence, DepthLevel[] Bids, DepthLevel[] Asks);
