using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Settlement;

/// <summary>How a wallet's owner runs a <see cref="WalletCall"/> and how its answer becomes a <see cref="StepResult"/>.</summary>
public static class WalletCalls
{
    /// <summary>
    /// Runs the call on the wallet it names. With <see cref="WalletCall.OnlyIfApplied"/> set, the wallet first settles
    /// that key's fate (<see cref="Wallet.FenceKey"/>): the call runs only if the key was applied; otherwise it is
    /// skipped and answered as done (<see cref="LedgerOutcome.Message"/> says so), since there is nothing to undo.
    /// Both happen in the same wallet turn, so no late delivery of the original can slip in between.
    /// </summary>
    public static LedgerOutcome Apply(this Wallet wallet, WalletCall call, DateTimeOffset at)
    {
        if (!string.Equals(wallet.PlayerId, call.PlayerId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"call for {call.PlayerId} made on the wallet of {wallet.PlayerId}", nameof(call));
        }
        if (call.OnlyIfApplied is { } original && !wallet.FenceKey(original, at))
        {
            return new LedgerOutcome(LedgerError.None, $"skipped: {original} was never applied, and now never will be", false, 0);
        }
        return call.Op switch
        {
            WalletOp.Credit => wallet.Credit(call.Key, call.Assets, call.Reason, at),
            WalletOp.Debit => wallet.Debit(call.Key, call.Assets, call.Reason, at),
            WalletOp.Hold => wallet.Hold(call.Key, call.HoldId ?? "", call.Assets, call.Reason, at),
            WalletOp.Capture => wallet.Capture(call.Key, call.HoldId ?? "", call.Assets, at),
            WalletOp.Release when call.Assets is null || call.Assets.IsEmpty => wallet.Release(call.Key, call.HoldId ?? "", at),
            WalletOp.Release => wallet.ReleasePart(call.Key, call.HoldId ?? "", call.Assets, at),
            _ => throw new ArgumentOutOfRangeException(nameof(call), call.Op, "unknown wallet operation"),
        };
    }

    /// <summary>
    /// A wallet's answer as a step result: applied or replayed → <see cref="StepResult.Done"/>; refused →
    /// <see cref="StepResult.Failed"/> (a refusal is final: the wallet remembers it under the key). A call that got no
    /// answer at all (timeout, actor unavailable) is the host's <see cref="StepResult.Retry"/>.
    /// </summary>
    public static StepResult ResultOf(LedgerOutcome outcome) => outcome.Ok ? StepResult.Done : StepResult.Failed;
}
