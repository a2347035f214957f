namespace DaprGame.Trading.Domain.Ledger;

/// <summary>
/// How much history a wallet keeps, so that its state stays bounded (it is rewritten by every command).
/// <list type="bullet">
/// <item>Idempotency keys: a key is remembered while it is among the newest <see cref="KeysKept"/> or younger than
/// <see cref="KeyAge"/>, and never more than <see cref="KeysMax"/> in all (beyond that the oldest go first, however
/// young). A client or saga retrying within that window gets the first answer again; after it, the key is forgotten and
/// the command would run anew.</item>
/// <item>Closed hold ids follow the same rule, so a recently closed hold answers <see cref="LedgerError.HoldClosed"/>
/// rather than <see cref="LedgerError.UnknownHold"/>, and its id cannot be reused meanwhile.</item>
/// <item>Ledger entries: the newest <see cref="EntriesKept"/> stay in the wallet; older ones are the persistence
/// service's to keep (it records every entry from the trading events).</item>
/// </list>
/// Age is measured against the time passed to the command being run, never a clock read here.
/// </summary>
public static class LedgerRetention
{
    public const int KeysKept = 10_000;

    public const int KeysMax = 50_000;

    public const int EntriesKept = 5_000;

    public static readonly TimeSpan KeyAge = TimeSpan.FromDays(7);
}
