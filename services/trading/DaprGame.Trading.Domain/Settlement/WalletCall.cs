using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Settlement;

/// <summary>The wallet command a saga step makes. Append-only (stored in saga state).</summary>
public enum WalletOp
{
    Credit,
    Debit,
    Hold,
    Capture,
    Release,
}

/// <summary>
/// One call to one player's wallet: which command, under which idempotency key, on which hold, moving what.
/// Keys are deterministic (<c>settle:{settlement}:{step}</c>, <c>…:undo</c>), so a call retried after a crash, a
/// timeout or a redelivery is the same call, and the wallet applies it at most once.
/// <see cref="Reason"/> is ignored by <see cref="WalletOp.Capture"/> and <see cref="WalletOp.Release"/> (the hold's
/// reason is used). Execute it with <see cref="WalletCalls.Apply"/>, which honours <see cref="OnlyIfApplied"/>.
/// </summary>
public sealed record WalletCall(string PlayerId, WalletOp Op, string Key, string? HoldId, AssetBundle Assets, string Reason)
{
    /// <summary>
    /// Set on the compensation of a step whose outcome is unknown (it ran out of retries without an answer): make this
    /// call only if the wallet applied that key, and fence the key otherwise so it can never apply later
    /// (<see cref="Wallet.FenceKey"/>). Null on every other call.
    /// </summary>
    public string? OnlyIfApplied { get; init; }
}

/// <summary>A step of a saga: the call forward and the call that undoes it (null when there is nothing to undo).</summary>
public sealed record SagaStep(string Name, WalletCall Action, WalletCall? Compensation);

/// <summary>A hold the saga's caller opened and releases once the saga is finished (what is left of it, if anything).</summary>
public sealed record HoldRef(string PlayerId, string HoldId);
