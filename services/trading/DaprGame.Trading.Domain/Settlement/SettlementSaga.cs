using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Settlement;

/// <summary>
/// A settlement as ordered (step, compensation) pairs. <see cref="Next"/> says which wallet call to make; the caller
/// makes it and reports with <see cref="Record"/>. Forward, each step runs until it is done; a step that fails for good
/// (or keeps failing transiently <see cref="MaxRetries"/> times) turns the saga round, and the compensations of the
/// steps already done run in reverse order. A compensation is retried forever: it only undoes what this saga did, so
/// a refusal means the books need a person (<see cref="SagaStatus.Stuck"/>).
/// </summary>
/// <remarks>
/// Every call carries a deterministic key (<c>settle:{id}:{n}</c>, <c>settle:{id}:{n}:undo</c>): a caller killed after a
/// call but before recording it makes the same call again after a restart, and the wallet answers it as the first.
/// </remarks>
public sealed class SettlementSaga
{
    /// <summary>Transient failures of one forward step before it counts as failed for good.</summary>
    public const int MaxRetries = 20;

    private readonly SettlementState _s;

    private SettlementSaga(SettlementState state) => _s = state;

    public string Id => _s.Id;

    public SagaStatus Status => _s.Status;

    public IReadOnlyList<SagaStep> Steps => _s.Steps;

    public int Attempts => _s.Attempts;

    public int StepsDone => _s.StepsDone;

    public string? FailureReason => _s.FailureReason;

    public IReadOnlyList<SagaLogEntry> Log => _s.Log;

    /// <summary>
    /// A fill: 1 capture the buyer's currency from the buyer's hold, 2 credit the seller the proceeds minus the fee (the
    /// fee is a sink: it is captured from the buyer and credited to nobody), 3 capture the seller's items, 4 credit the
    /// buyer the items.
    /// </summary>
    public static SettlementSaga ForFill(string settlementId, FillTerms t)
    {
        ArgumentException.ThrowIfNullOrEmpty(settlementId);
        if (t.Price <= 0 || t.Quantity <= 0 || t.Fee < 0 || t.BuyerId == t.SellerId)
        {
            throw new ArgumentException("a fill has a positive price and quantity, a fee of 0 or more and two different parties", nameof(t));
        }
        var proceeds = checked(t.Price * t.Quantity);
        if (t.Fee > proceeds)
        {
            throw new ArgumentException("the fee cannot exceed the proceeds", nameof(t));
        }
        var money = AssetBundle.Currency(t.Currency, proceeds);
        var items = AssetBundle.Items(t.ItemType, t.Quantity);
        var reason = $"fill {settlementId} on {t.Instrument}";
        var steps = new List<SagaStep>
        {
            Step(settlementId, 1, "capture buyer currency", t.BuyerId, WalletOp.Capture, t.BuyerHoldId, money, reason, undo: WalletOp.Credit),
        };
        if (proceeds - t.Fee > 0)
        {
            steps.Add(Step(settlementId, 2, "credit seller proceeds", t.SellerId, WalletOp.Credit, null, AssetBundle.Currency(t.Currency, proceeds - t.Fee), reason, undo: WalletOp.Debit));
        }
        steps.Add(Step(settlementId, 3, "capture seller items", t.SellerId, WalletOp.Capture, t.SellerHoldId, items, reason, undo: WalletOp.Credit));
        steps.Add(Step(settlementId, 4, "credit buyer items", t.BuyerId, WalletOp.Credit, null, items, reason, undo: WalletOp.Debit));
        return new SettlementSaga(new SettlementState { Id = settlementId, Steps = steps });
    }

    /// <summary>A swap: capture A's side, capture B's side, credit B with A's side, credit A with B's side.</summary>
    public static SettlementSaga ForSwap(string settlementId, SwapTerms t)
    {
        ArgumentException.ThrowIfNullOrEmpty(settlementId);
        if (t.PlayerA == t.PlayerB || (t.GivesA.IsEmpty && t.GivesB.IsEmpty))
        {
            throw new ArgumentException("a swap has two different parties and something to move", nameof(t));
        }
        var reason = $"swap {settlementId}";
        var steps = new List<SagaStep>();
        if (!t.GivesA.IsEmpty)
        {
            steps.Add(Step(settlementId, 1, "capture A's side", t.PlayerA, WalletOp.Capture, t.HoldA, t.GivesA, reason, undo: WalletOp.Credit));
        }
        if (!t.GivesB.IsEmpty)
        {
            steps.Add(Step(settlementId, 2, "capture B's side", t.PlayerB, WalletOp.Capture, t.HoldB, t.GivesB, reason, undo: WalletOp.Credit));
        }
        if (!t.GivesA.IsEmpty)
        {
            steps.Add(Step(settlementId, 3, "credit B with A's side", t.PlayerB, WalletOp.Credit, null, t.GivesA, reason, undo: WalletOp.Debit));
        }
        if (!t.GivesB.IsEmpty)
        {
            steps.Add(Step(settlementId, 4, "credit A with B's side", t.PlayerA, WalletOp.Credit, null, t.GivesB, reason, undo: WalletOp.Debit));
        }
        return new SettlementSaga(new SettlementState { Id = settlementId, Steps = steps });
    }

    public static SettlementSaga FromState(SettlementState state) => new(Copy(state));

    public SettlementState ToState() => Copy(_s);

    /// <summary>The call to make now, or null when the saga has ended (settled, compensated or stuck).</summary>
    public WalletCall? Next() => _s.Status switch
    {
        SagaStatus.Pending => _s.Steps[_s.Cursor].Action,
        SagaStatus.Compensating => NextCompensation(),
        _ => null,
    };

    /// <summary>The outcome of the call <see cref="Next"/> returned.</summary>
    public void Record(StepResult result, DateTimeOffset at)
    {
        var call = Next() ?? throw new InvalidOperationException($"saga {Id} has ended ({Status}); nothing to record");
        _s.Attempts++;
        var compensating = _s.Status == SagaStatus.Compensating;
        _s.Log.Add(new SagaLogEntry(compensating ? _s.Cursor - 1 : _s.Cursor, compensating, call.Key, result, at));
        if (compensating)
        {
            RecordCompensation(result);
        }
        else
        {
            RecordForward(result);
        }
    }

    private void RecordForward(StepResult result)
    {
        if (result == StepResult.Retry && ++_s.CurrentRetries < MaxRetries)
        {
            return;
        }
        _s.CurrentRetries = 0;
        if (result == StepResult.Done)
        {
            _s.Cursor++;
            _s.StepsDone = _s.Cursor;
            if (_s.Cursor == _s.Steps.Count)
            {
                _s.Status = SagaStatus.Settled;
            }
            return;
        }
        _s.FailureReason = $"step {_s.Cursor + 1} ({_s.Steps[_s.Cursor].Name}) {(result == StepResult.Retry ? $"did not complete after {MaxRetries} tries" : "was refused")}";
        _s.Status = SagaStatus.Compensating;
        // Undo from the last step done back to the first; steps without a compensation are skipped.
        _s.Cursor = _s.StepsDone;
        SkipWithoutCompensation();
    }

    private void RecordCompensation(StepResult result)
    {
        switch (result)
        {
            case StepResult.Retry:
                return;
            case StepResult.Failed:
                _s.Status = SagaStatus.Stuck;
                _s.FailureReason += $"; undoing step {_s.Cursor} ({_s.Steps[_s.Cursor - 1].Name}) was refused";
                return;
            default:
                _s.Cursor--;
                SkipWithoutCompensation();
                return;
        }
    }

    private WalletCall? NextCompensation() => _s.Cursor > 0 ? _s.Steps[_s.Cursor - 1].Compensation : null;

    private void SkipWithoutCompensation()
    {
        while (_s.Cursor > 0 && _s.Steps[_s.Cursor - 1].Compensation is null)
        {
            _s.Cursor--;
        }
        if (_s.Cursor == 0)
        {
            _s.Status = SagaStatus.Compensated;
        }
    }

    private static SagaStep Step(string id, int n, string name, string player, WalletOp op, string? holdId, AssetBundle assets, string reason, WalletOp undo) =>
        new(name,
            new WalletCall(player, op, $"settle:{id}:{n}", holdId, assets, reason),
            new WalletCall(player, undo, $"settle:{id}:{n}:undo", null, assets, "undo " + reason));

    private static SettlementState Copy(SettlementState s) => new()
    {
        Id = s.Id,
        Steps = [.. s.Steps],
        Status = s.Status,
        Cursor = s.Cursor,
        StepsDone = s.StepsDone,
        Attempts = s.Attempts,
        CurrentRetries = s.CurrentRetries,
        FailureReason = s.FailureReason,
        Log = [.. s.Log],
    };
}
