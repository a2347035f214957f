using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Settlement;

/// <summary>
/// What an order-book fill settles: the buyer pays <c>Price × Quantity</c> of <paramref name="Currency"/> from
/// <paramref name="BuyerHoldId"/>, the seller gets that minus <paramref name="Fee"/> (a currency sink), and
/// <paramref name="Quantity"/> items of <paramref name="ItemType"/> move from <paramref name="SellerHoldId"/> to the buyer.
/// <paramref name="Price"/> is per item, in minor units.
/// </summary>
public sealed record FillTerms(
    string BuyerId,
    string SellerId,
    string BuyerHoldId,
    string SellerHoldId,
    string Currency,
    long Price,
    long Quantity,
    string ItemType,
    long Fee,
    string Instrument);

/// <summary>
/// A direct trade's exchange: <paramref name="PlayerA"/> gives <paramref name="GivesA"/> out of <paramref name="HoldA"/>
/// and <paramref name="PlayerB"/> gives <paramref name="GivesB"/> out of <paramref name="HoldB"/>. One side may be empty (a gift).
/// </summary>
public sealed record SwapTerms(
    string PlayerA,
    string HoldA,
    AssetBundle GivesA,
    string PlayerB,
    string HoldB,
    AssetBundle GivesB);
