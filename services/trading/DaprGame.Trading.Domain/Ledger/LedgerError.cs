namespace DaprGame.Trading.Domain.Ledger;

/// <summary>
/// Why a ledger command was refused; <see cref="None"/> when it was not. A refused command changes no balance, hold or
/// entry. Append-only: the host maps these values to error codes, so never renumber them.
/// </summary>
public enum LedgerError
{
    None,

    /// <summary>An amount or count is not positive, a bundle is empty, or it names one instance twice.</summary>
    InvalidAmount,

    /// <summary>The command would take a balance (available + held) past <see cref="long.MaxValue"/>.</summary>
    Overflow,

    /// <summary>Not enough available currency (held currency does not count).</summary>
    InsufficientFunds,

    /// <summary>Not enough available items of a type, or an instance that is owned but held.</summary>
    InsufficientItems,

    /// <summary>The wallet does not own that item instance.</summary>
    UnknownInstance,

    /// <summary>A credit names an instance the wallet already owns (instance ids are unique).</summary>
    InstanceAlreadyOwned,

    /// <summary>No hold with that id was ever opened (or it was closed so long ago that it was forgotten).</summary>
    UnknownHold,

    /// <summary>The hold was released, or emptied by captures.</summary>
    HoldClosed,

    /// <summary>A capture asks for more than what is left in the hold.</summary>
    HoldExceeded,

    /// <summary>A hold with that id is open or was closed recently: hold ids are never reused.</summary>
    DuplicateHold,

    /// <summary>The idempotency key was used before for a different command (or fenced); nothing was done.</summary>
    IdempotencyConflict,

    /// <summary>
    /// A malformed identifier or text: the idempotency key, a hold id, a currency code, an item type, an instance id or
    /// an over-long reason (see <see cref="LedgerIds"/>).
    /// </summary>
    InvalidKey,
}

/// <summary>
/// What a ledger command did. <paramref name="Replayed"/>: the key was seen before with the same command, and this is
/// the first answer again (nothing changed this time). <paramref name="EntrySequence"/>: the sequence of the last entry
/// the command wrote (the original's when replayed); 0 when it wrote none (a refusal).
/// </summary>
public sealed record LedgerOutcome(LedgerError Error, string? Message, bool Replayed, long EntrySequence)
{
    public bool Ok => Error == LedgerError.None;
}
