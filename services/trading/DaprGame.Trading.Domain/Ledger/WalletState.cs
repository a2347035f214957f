namespace DaprGame.Trading.Domain.Ledger;

/// <summary>
/// A wallet as stored (one JSON document in actor state). Plain settable properties so a reflection serializer can
/// write and read it; <see cref="Wallet.ToState"/> writes collections in a fixed order so equal wallets give equal
/// documents. Held totals are not stored: they are the sums of <see cref="Holds"/>.
/// </summary>
public sealed class WalletState
{
    public string PlayerId { get; set; } = "";

    /// <summary>Available currency (code → minor units); zero balances are left out.</summary>
    public Dictionary<string, long> Currencies { get; set; } = [];

    /// <summary>Available items (item type → count); zero counts are left out.</summary>
    public Dictionary<string, long> Stacks { get; set; } = [];

    /// <summary>Available item instances, ordinal order. Held instances are in their hold.</summary>
    public List<string> Instances { get; set; } = [];

    /// <summary>Open holds, in the order they were opened.</summary>
    public List<HoldState> Holds { get; set; } = [];

    /// <summary>Recently closed hold ids, oldest first (see <see cref="LedgerRetention"/>).</summary>
    public List<ClosedHoldState> ClosedHolds { get; set; } = [];

    /// <summary>Remembered idempotency keys, oldest first (see <see cref="LedgerRetention"/>).</summary>
    public List<RememberedKeyState> Keys { get; set; } = [];

    /// <summary>The newest ledger entries, ascending by sequence (see <see cref="LedgerRetention"/>).</summary>
    public List<LedgerEntry> Entries { get; set; } = [];

    /// <summary>The sequence of the last entry ever written (entries are numbered 1, 2, … per wallet).</summary>
    public long LastSequence { get; set; }

    /// <summary>How many commands changed the wallet (one per change, however many entries it wrote).</summary>
    public long Version { get; set; }
}

/// <summary>An open hold as stored.</summary>
public sealed class HoldState
{
    public string HoldId { get; set; } = "";

    /// <summary>What is left in the hold; never empty (an emptied hold is closed).</summary>
    public AssetBundle Remaining { get; set; } = new();

    public string Reason { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The sequence of the first entry the hold wrote: orders open holds.</summary>
    public long OpenedAt { get; set; }
}

/// <summary>A closed hold id, remembered for a while so it cannot be reused or captured by mistake.</summary>
public sealed class ClosedHoldState
{
    public string HoldId { get; set; } = "";

    public DateTimeOffset ClosedAt { get; set; }
}

/// <summary>
/// An idempotency key and the answer it got. <see cref="Fingerprint"/> is a hash of the command (operation, hold id,
/// assets, reason), so a reuse with a different command is detected without keeping the command.
/// </summary>
public sealed class RememberedKeyState
{
    public string Key { get; set; } = "";

    public string Fingerprint { get; set; } = "";

    public LedgerError Error { get; set; }

    public string? Message { get; set; }

    public long EntrySequence { get; set; }

    public DateTimeOffset At { get; set; }
}
