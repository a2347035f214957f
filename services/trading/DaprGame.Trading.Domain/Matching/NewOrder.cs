namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// An order submitted to an <see cref="OrderBook"/>. The order id and the owner are chosen by the caller (the
/// OrderBook actor maps player ids to owner numbers); the id must be unique among the orders resting on the book.
/// </summary>
/// <param name="Price">
/// The limit price in minor units, 1..<see cref="BookOptions.MaxPrice"/>. For a market order it is the protection
/// price: a buy pays at most this much; a sell accepts at least this much, and 0 means no protection for a sell.
/// </param>
/// <param name="Quantity">1..<see cref="BookOptions.MaxQuantity"/>; <c>Price * Quantity</c> must fit in a <see cref="long"/>.</param>
public readonly record struct NewOrder(long OrderId, long OwnerId, Side Side, OrderType Type, long Price, long Quantity);
