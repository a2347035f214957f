namespace DaprGame.Trading.Domain.Matching;

/// <summary>
/// One trade between a resting order (the maker) and an incoming order (the taker), at the maker's price.
/// The maker and the taker always have different owners.
/// </summary>
/// <param name="Sequence">The book's sequence number taken by this fill (see <see cref="OrderBook.Sequence"/>).</param>
/// <param name="TakerSide">The incoming order's side: <see cref="Side.Buy"/> means the taker bought.</param>
/// <param name="Price">The maker's price.</param>
/// <param name="MakerDone">The maker has nothing left and has left the book.</param>
/// <param name="TakerDone">The taker has nothing left.</param>
public readonly record struct Fill(
    long Sequence,
    long MakerOrderId,
    long MakerOwnerId,
    long TakerOrderId,
    long TakerOwnerId,
    Side TakerSide,
    long Price,
    long Quantity,
    bool MakerDone,
    bool TakerDone);
