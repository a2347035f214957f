using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.MarketData;

/// <summary>One L2 increment as published from <see cref="IBookListener.OnDepthChanged"/>.</summary>
/// <param name="Quantity">The level's new total quantity; 0 removes the level.</param>
/// <param name="Sequence">The book's sequence number of this change.</param>
public readonly record struct DepthIncrement(Side Side, long Price, long Quantity, long Sequence);

/// <summary>A price and the total quantity resting there, as a consumer's mirror knows it.</summary>
public readonly record struct PriceLevel(long Price, long Quantity);
