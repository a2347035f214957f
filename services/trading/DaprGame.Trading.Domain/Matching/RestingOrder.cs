namespace DaprGame.Trading.Domain.Matching;

/// <summary>An order resting on the book, as exported for a snapshot and read back by <see cref="OrderBook.Restore"/>.</summary>
/// <param name="Remaining">The quantity still open (after fills and size reductions).</param>
/// <param name="PostOnly">It was submitted post-only: a replace that would make it cross is rejected.</param>
public readonly record struct RestingOrder(long OrderId, long OwnerId, Side Side, long Price, long Remaining, bool PostOnly = false);
