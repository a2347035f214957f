namespace DaprGame.Trading.Domain.Ledger;

/// <summary>What a ledger entry did to one asset. Append-only (stored).</summary>
public enum LedgerEntryKind
{
    /// <summary>Came in from outside the wallet (available grows).</summary>
    Credit,

    /// <summary>Left the wallet from available.</summary>
    Debit,

    /// <summary>Moved from available to held.</summary>
    Hold,

    /// <summary>Left the wallet from a hold.</summary>
    Capture,

    /// <summary>Moved back from a hold to available.</summary>
    Release,
}

/// <summary>
/// One change to one asset of one wallet. A command writes one entry per asset it touches, in a fixed order
/// (currencies, then stacks, then instances, each by ordinal name). <paramref name="Asset"/> is written with
/// <see cref="LedgerAsset"/>. For an instance the amounts are 0 or 1.
/// </summary>
public sealed record LedgerEntry(
    long Sequence,
    string Key,
    LedgerEntryKind Kind,
    string Asset,
    long DeltaAvailable,
    long DeltaHeld,
    long AvailableAfter,
    long HeldAfter,
    string? HoldId,
    string Reason,
    DateTimeOffset At);

/// <summary>How a <see cref="LedgerEntry"/> names its asset: <c>currency:GOLD</c>, <c>stack:iron_ore</c>, <c>instance:sword-7</c>.</summary>
public static class LedgerAsset
{
    public const string CurrencyPrefix = "currency:";
    public const string StackPrefix = "stack:";
    public const string InstancePrefix = "instance:";

    public static string Currency(string code) => CurrencyPrefix + code;

    public static string Stack(string itemType) => StackPrefix + itemType;

    public static string Instance(string id) => InstancePrefix + id;
}
