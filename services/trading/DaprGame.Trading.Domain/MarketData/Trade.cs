using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.MarketData;

/// <summary>One public trade on the tape: who the owners were is not part of market data.</summary>
/// <param name="Sequence">The book sequence number of the fill.</param>
/// <param name="TakerSide">The aggressor's side: <see cref="Side.Buy"/> means the trade lifted an ask.</param>
/// <param name="Time">When the book's owner executed it (passed in; the domain has no clock).</param>
public readonly record struct Trade(long Sequence, long Price, long Quantity, Side TakerSide, DateTimeOffset Time)
{
    /// <summary>The public part of a fill.</summary>
    public static Trade From(in Fill fill, DateTimeOffset time) => new(fill.Sequence, fill.Price, fill.Quantity, fill.TakerSide, time);
}
