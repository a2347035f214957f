namespace DaprGame.Trading.Domain.MarketData;

/// <summary>Open, high, low, close and volume of the trades in one bucket.</summary>
/// <param name="OpenTime">The start of the bucket (UTC, aligned to the interval).</param>
/// <param name="Volume">The total quantity traded.</param>
/// <param name="TradeCount">How many trades (fills) the bucket holds.</param>
public readonly record struct Candle(DateTimeOffset OpenTime, long Open, long High, long Low, long Close, long Volume, int TradeCount);
