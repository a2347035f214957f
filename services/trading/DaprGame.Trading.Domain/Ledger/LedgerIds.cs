namespace DaprGame.Trading.Domain.Ledger;

/// <summary>
/// The shapes of the identifiers and texts the ledger accepts. They travel in actor ids, keys and URLs, so they are kept
/// to short ASCII; anything else is refused with <see cref="LedgerError.InvalidKey"/> before it can be stored.
/// </summary>
public static class LedgerIds
{
    public const int MaxKeyLength = 128;

    public const int MaxReasonLength = 256;

    /// <summary>Idempotency keys and hold ids: 1–128 of <c>[A-Za-z0-9._:-]</c>.</summary>
    public static bool IsValidKey(string? key) =>
        key is { Length: >= 1 and <= MaxKeyLength } && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');

    /// <summary>Currency codes: 3–8 of <c>[A-Z]</c>.</summary>
    public static bool IsValidCurrency(string? code) =>
        code is { Length: >= 3 and <= 8 } && code.All(char.IsAsciiLetterUpper);

    /// <summary>Fungible item types: 1–64 of <c>[a-z0-9_.-]</c>.</summary>
    public static bool IsValidItemType(string? itemType) =>
        itemType is { Length: >= 1 and <= 64 } && itemType.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '.' or '-');

    /// <summary>Item instance ids: the key alphabet (1–128 of <c>[A-Za-z0-9._:-]</c>), so GUIDs and prefixed ids both fit.</summary>
    public static bool IsValidInstanceId(string? id) => IsValidKey(id);

    /// <summary>Player ids: 1–64 of <c>[A-Za-z0-9_.-]</c> (the gateway's ids).</summary>
    public static bool IsValidPlayerId(string? id) =>
        id is { Length: >= 1 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    /// <summary>Reasons are free text for people reading the ledger: at most 256 characters, no control characters.</summary>
    public static bool IsValidReason(string? reason) =>
        reason is { Length: <= MaxReasonLength } && !reason.Any(char.IsControl);
}
