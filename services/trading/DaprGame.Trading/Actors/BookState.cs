using DaprGame.Contracts.Trading;
using DaprGame.Trading.Domain.Matching;
using DaprGame.Trading.Infrastructure;
using DaprGame.Trading.Domain.Settlement;

namespace DaprGame.Trading.Actors;

/// <summary>One order as the book actor keeps it: what the engine does not know (who, the hold, the fills).</summary>
public sealed class OrderRecord
{
    public required string OrderId { get; set; }

    public required long Number { get; set; }

    public required string PlayerId { get; set; }

    public required string ClientOrderId { get; set; }

    public required OrderSide Side { get; set; }

    public required OrderKind Kind { get; set; }

    public required long Price { get; set; }

    public required long Quantity { get; set; }

    public long Filled { get; set; }

    /// <summary><c>open</c>, <c>filled</c>, <c>cancelled</c> or <c>rejected</c>.</summary>
    public string Status { get; set; } = "open";

    public string? Reason { get; set; }

    public string? RejectCode { get; set; }

    public List<string> FillIds { get; set; } = [];

    public required string HoldId { get; set; }

    /// <summary>What the hold took: currency minor units for a buy, items for a sell.</summary>
    public long Held { get; set; }

    /// <summary>How much of <see cref="Held"/> fills have claimed (their settlements capture it).</summary>
    public long Committed { get; set; }

    public DateTimeOffset ClosedAt { get; set; }

    /// <summary>How many replacements gave part of the hold back (numbers their release keys).</summary>
    public int Replacements { get; set; }

    /// <summary>When a good-till-date order leaves the book by itself; null for good till cancelled.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    public bool IsOpen => Status == "open";

    public long Remaining => IsOpen ? Quantity - Filled : 0;

    public OrderView View(string instrument) =>
        new(instrument, OrderId, ClientOrderId, Side, Kind, Price, Quantity, Filled, Quantity - Filled, Status, Reason, FillIds, ExpiresAt);
}

/// <summary>An order whose hold was asked for and whose outcome is not saved yet; resolved on activation.</summary>
public sealed record PendingPlacement(string OrderId, string PlayerId, string HoldId);

/// <summary>Work that follows a saved turn: publish an event, start a settlement, release what a finished order still holds.</summary>
public sealed record OutboxItem(StoredEvent? Event, SettlementStart? Settlement, WalletCall? Wallet);

/// <summary>A trade of the tape as stored.</summary>
public sealed record TapeEntry(long Sequence, long Price, long Quantity, OrderSide TakerSide, DateTimeOffset At);

/// <summary>Everything the OrderBook actor saves, in one key.</summary>
public sealed class BookState
{
    public long Sequence { get; set; }

    public long NextOrder { get; set; } = 1;

    public long EventSequence { get; set; }

    public long NextOwner { get; set; } = 1;

    public Dictionary<string, long> Owners { get; set; } = [];

    /// <summary>Open orders and the most recent closed ones, by order id.</summary>
    public Dictionary<string, OrderRecord> Orders { get; set; } = [];

    /// <summary><c>{player}/{clientOrderId}</c> → order id, for as long as the order is kept.</summary>
    public Dictionary<string, string> ClientOrders { get; set; } = [];

    /// <summary>The engine's resting orders in priority order (restored as is).</summary>
    public List<RestingOrder> Resting { get; set; } = [];

    public List<PendingPlacement> Pending { get; set; } = [];

    public List<OutboxItem> Outbox { get; set; } = [];

    public List<TapeEntry> Tape { get; set; } = [];

    /// <summary>When the <c>expire</c> reminder is due (the earliest open order's expiry when it was set); null: none registered.</summary>
    public DateTimeOffset? ExpiryDue { get; set; }
}
