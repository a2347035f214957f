namespace DaprGame.Trading.Domain.Ledger;

/// <summary>An open hold: what is left in it, why it was opened and when.</summary>
public sealed record HoldView(string HoldId, AssetBundle Remaining, string Reason, DateTimeOffset CreatedAt);

/// <summary>Everything a wallet owns, by ordinal name; assets at zero are not listed.</summary>
public sealed record BalanceView(
    IReadOnlyList<CurrencyBalance> Currencies,
    IReadOnlyList<StackBalance> Stacks,
    IReadOnlyList<InstanceBalance> Instances);

/// <summary>One currency: what can be spent (<paramref name="Available"/>) and what open holds reserve.</summary>
public sealed record CurrencyBalance(string Currency, long Available, long Held);

/// <summary>One fungible item type: available and held counts.</summary>
public sealed record StackBalance(string ItemType, long Available, long Held);

/// <summary>One owned item instance; <paramref name="HoldId"/> names the hold that reserves it, if any.</summary>
public sealed record InstanceBalance(string Id, bool Held, string? HoldId);
