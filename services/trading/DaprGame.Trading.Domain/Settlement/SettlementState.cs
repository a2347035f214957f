namespace DaprGame.Trading.Domain.Settlement;

/// <summary>Where a saga is. Append-only (stored).</summary>
public enum SagaStatus
{
    /// <summary>Going forward: <see cref="SettlementSaga.Next"/> is a step's action.</summary>
    Pending,

    /// <summary>Every step done.</summary>
    Settled,

    /// <summary>A step failed: undoing the steps done, newest first.</summary>
    Compensating,

    /// <summary>Every step done has been undone.</summary>
    Compensated,

    /// <summary>A compensation was refused for good: an operator must settle what is left by hand.</summary>
    Stuck,
}

/// <summary>What became of the call <see cref="SettlementSaga.Next"/> returned. Append-only (stored in the log).</summary>
public enum StepResult
{
    /// <summary>Applied (or replayed: it had been applied before).</summary>
    Done,

    /// <summary>No answer (timeout, wallet unavailable): make the same call again later.</summary>
    Retry,

    /// <summary>Refused for good: going forward, compensate; compensating, the saga is stuck.</summary>
    Failed,
}

/// <summary>What a settlement settles. Append-only (stored).</summary>
public enum SettlementKind
{
    /// <summary>An order-book fill: currency for items, with a fee.</summary>
    Fill,

    /// <summary>A direct trade: two bundles exchanged.</summary>
    Swap,
}

/// <summary>One recorded attempt: which call, and what became of it.</summary>
public sealed record SagaLogEntry(DateTimeOffset At, string Step, bool Compensation, string Key, StepResult Result, int Attempt, string? Note);

/// <summary>
/// A saga as stored (one JSON document in the Settlement actor's state): its fixed plan and where it stands.
/// Plain settable properties so a reflection serializer can write and read it.
/// </summary>
public sealed class SettlementState
{
    public string Id { get; set; } = "";

    public SettlementKind Kind { get; set; }

    /// <summary>The plan, fixed when the saga was made.</summary>
    public List<SagaStep> Steps { get; set; } = [];

    /// <summary>The holds the caller releases once the saga is finished.</summary>
    public List<HoldRef> Holds { get; set; } = [];

    /// <summary>The fill's fee (0 for a swap): taken from the buyer's payment and credited to nobody.</summary>
    public long Fee { get; set; }

    public string? FeeCurrency { get; set; }

    public SagaStatus Status { get; set; }

    /// <summary>
    /// The step whose call is next: its action while <see cref="SagaStatus.Pending"/>, its compensation while
    /// <see cref="SagaStatus.Compensating"/> (and where it stopped when <see cref="SagaStatus.Stuck"/>).
    /// <c>Steps.Count</c> once settled, −1 once compensated.
    /// </summary>
    public int Position { get; set; }

    /// <summary>The step that ran out of retries without an answer, if any: its own compensation is conditional.</summary>
    public int? UncertainStep { get; set; }

    /// <summary>Attempts recorded for the current call.</summary>
    public int Attempts { get; set; }

    /// <summary>Attempts recorded in all.</summary>
    public int TotalAttempts { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>The newest <see cref="SettlementSaga.LogKept"/> log entries, oldest first.</summary>
    public List<SagaLogEntry> Log { get; set; } = [];
}
