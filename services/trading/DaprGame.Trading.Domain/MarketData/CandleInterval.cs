namespace DaprGame.Trading.Domain.MarketData;

/// <summary>The candle widths kept by <see cref="Candles"/>. Buckets start on UTC boundaries. Sent on the wire: append only.</summary>
public enum CandleInterval : byte
{
    Minute,
    Hour,
    Day,
}
