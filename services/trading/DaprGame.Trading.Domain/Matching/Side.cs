namespace DaprGame.Trading.Domain.Matching;

/// <summary>Which side of the book an order is on. Persisted and sent on the wire: never renumber.</summary>
public enum Side : byte
{
    Buy = 0,
    Sell = 1,
}
