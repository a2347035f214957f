using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Settlement;

/// <summary>The wallet operation a saga step performs.</summary>
public enum WalletOp
{
    Credit,
    Debit,
    Hold,
    Capture,
    /// <summary>With an empty bundle: all that is left of the hold, which closes. With a bundle: that part only.</summary>
    Release,
}

/// <summary>One call to one player's wallet, idempotent by <see cref="Key"/>.</summary>
public sealed record WalletCall(string PlayerId, WalletOp Op, string Key, string? HoldId, AssetBundle Assets, string Reason);

/// <summary>One step of a saga and what undoes it (null when nothing needs undoing).</summary>
public sealed record SagaStep(string Name, WalletCall Action, WalletCall? Compensation);

public enum SagaStatus
{
    Pending,
    Settled,
    Compensating,
    Compensated,
    /// <summary>A compensation failed for good: the saga cannot restore the books by itself and needs an operator.</summary>
    Stuck,
}

public enum StepResult
{
    Done,
    /// <summary>Transient: the same call is made again later.</summary>
    Retry,
    /// <summary>For good: the saga compensates what it did.</summary>
    Failed,
}

/// <summary>What an order-book fill settles: price × quantity of currency one way, quantity of items the other.</summary>
public sealed record FillTerms(string BuyerId, string SellerId, string BuyerHoldId, string SellerHoldId, string Currency, long Price, long Quantity,
    string ItemType, long Fee, string Instrument);

/// <summary>What a direct trade swaps: A gives <see cref="GivesA"/> from <see cref="HoldA"/>, B gives <see cref="GivesB"/> from <see cref="HoldB"/>.</summary>
public sealed record SwapTerms(string PlayerA, string HoldA, AssetBundle GivesA, string PlayerB, string HoldB, AssetBundle GivesB);

/// <summary>One line of a saga's log: which call, which result, when.</summary>
public sealed record SagaLogEntry(int Step, bool Compensation, string Key, StepResult Result, DateTimeOffset At);

/// <summary>A saga as stored.</summary>
public sealed class SettlementState
{
    public string Id { get; set; } = "";

    public List<SagaStep> Steps { get; set; } = [];

    public SagaStatus Status { get; set; }

    /// <summary>Forward: the next step to run. Compensating: one past the next step to undo.</summary>
    public int Cursor { get; set; }

    /// <summary>How many steps ran forward before the failure (what compensation undoes).</summary>
    public int StepsDone { get; set; }

    public int Attempts { get; set; }

    /// <summary>Retries of the current call so far.</summary>
    public int CurrentRetries { get; set; }

    public string? FailureReason { get; set; }

    public List<SagaLogEntry> Log { get; set; } = [];
}
