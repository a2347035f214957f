using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Settlement;

/// <summary>
/// The settlement of one fill or direct trade, as a saga: ordered steps, each a wallet call with the call that undoes
/// it. The plan is fixed when the saga is made, and every call has a deterministic idempotency key
/// (<c>settle:{id}:{n}</c>, its undo <c>settle:{id}:{n}:undo</c>), so the host can repeat any call after a crash
/// without doing it twice. The host loop: <c>Next()</c> → run it on that player's wallet
/// (<see cref="WalletCalls.Apply"/>) → <c>Record(result)</c> → save <c>ToState()</c>, and again until <c>Next()</c> is
/// null. If the host dies anywhere in that loop, the saved state gives the same <c>Next()</c>, with the same key.
/// <para>Retries. A forward step that got no answer (<see cref="StepResult.Retry"/>) <see cref="MaxForwardAttempts"/>
/// times is given up. Its outcome is unknown, so compensation starts with that step itself, made conditional
/// (<see cref="WalletCall.OnlyIfApplied"/>): undone if the wallet applied it, fenced if not. A refused step
/// (<see cref="StepResult.Failed"/>) changed nothing, so compensation starts with the step before it. A compensation
/// never gives up on <see cref="StepResult.Retry"/>; a refused compensation leaves the saga
/// <see cref="SagaStatus.Stuck"/> for an operator, since going on could undo the wrong things.</para>
/// <para>Holds. The caller opened the holds the saga captures from, and releases what is left of them once the saga
/// is finished (<see cref="Holds"/>), whether it settled or not: releasing is not a saga step.</para>
/// </summary>
public sealed class SettlementSaga
{
    /// <summary>Retry results after which a forward step is given up (with backoff, minutes of waiting).</summary>
    public const int MaxForwardAttempts = 20;

    /// <summary>The log keeps this many newest entries: compensations retry forever, and the state must stay bounded.</summary>
    public const int LogKept = 100;

    private readonly List<SagaStep> _steps;
    private readonly List<HoldRef> _holds;
    private readonly List<SagaLogEntry> _log = [];
    private int _position;
    private int? _uncertainStep;

    private SettlementSaga(string id, SettlementKind kind, List<SagaStep> steps, List<HoldRef> holds, long fee, string? feeCurrency)
    {
        Id = id;
        Kind = kind;
        _steps = steps;
        _holds = holds;
        Fee = fee;
        FeeCurrency = feeCurrency;
    }

    public string Id { get; }

    public SettlementKind Kind { get; }

    public SagaStatus Status { get; private set; }

    public IReadOnlyList<SagaStep> Steps => _steps;

    /// <summary>The holds the caller releases once the saga is finished.</summary>
    public IReadOnlyList<HoldRef> Holds => _holds;

    /// <summary>A fill's fee, in <see cref="FeeCurrency"/>: the buyer pays it, nobody receives it (a currency sink). 0 for a swap.</summary>
    public long Fee { get; }

    public string? FeeCurrency { get; }

    /// <summary>Attempts recorded for the current call (0 before its first).</summary>
    public int Attempts { get; private set; }

    /// <summary>Attempts recorded in all.</summary>
    public int TotalAttempts { get; private set; }

    /// <summary>Why the saga is compensating, compensated or stuck.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>The newest <see cref="LogKept"/> recorded attempts, oldest first.</summary>
    public IReadOnlyList<SagaLogEntry> Log => _log;

    /// <summary>True once nothing is left to do: settled, compensated or stuck.</summary>
    public bool IsFinished => Status is SagaStatus.Settled or SagaStatus.Compensated or SagaStatus.Stuck;

    /// <summary>
    /// The settlement of an order-book fill, in four steps: 1 capture the buyer's payment (price × quantity) from the
    /// buyer's hold; 2 credit the seller the payment minus the fee; 3 capture the items from the seller's hold; 4 credit
    /// the buyer the items. Each is undone by the opposite call (a capture by a credit back, a credit by a debit).
    /// Throws <see cref="ArgumentException"/> for terms that cannot settle.
    /// </summary>
    public static SettlementSaga ForFill(string settlementId, FillTerms terms)
    {
        RequireId(settlementId);
        RequirePlayer(terms.BuyerId);
        RequirePlayer(terms.SellerId);
        RequireKey(terms.BuyerHoldId, "buyer hold id");
        RequireKey(terms.SellerHoldId, "seller hold id");
        Require(LedgerIds.IsValidCurrency(terms.Currency), $"currency '{terms.Currency}' is not 3–8 of [A-Z]");
        Require(LedgerIds.IsValidItemType(terms.ItemType), $"item type '{terms.ItemType}' is not 1–64 of [a-z0-9_.-]");
        Require(terms.Instrument is { Length: >= 1 and <= 64 } && LedgerIds.IsValidReason(terms.Instrument), "instrument must be 1–64 printable characters");
        Require(terms.Price > 0 && terms.Quantity > 0, $"price ({terms.Price}) and quantity ({terms.Quantity}) must be positive");
        Require(terms.Price <= long.MaxValue / terms.Quantity, $"price {terms.Price} × quantity {terms.Quantity} does not fit a long");
        var total = terms.Price * terms.Quantity;
        Require(terms.Fee >= 0 && terms.Fee < total, $"fee {terms.Fee} must be at least 0 and less than the payment {total}");

        var reason = $"fill {terms.Instrument} ({settlementId})";
        var undo = $"undo fill {terms.Instrument} ({settlementId})";
        var payment = AssetBundle.Currency(terms.Currency, total);
        var proceeds = AssetBundle.Currency(terms.Currency, total - terms.Fee);
        var items = AssetBundle.Items(terms.ItemType, terms.Quantity);
        var plan = new Plan(settlementId, reason, undo);
        plan.Capture("buyer pays", terms.BuyerId, terms.BuyerHoldId, payment);
        plan.Credit("seller is paid", terms.SellerId, proceeds);
        plan.Capture("seller delivers", terms.SellerId, terms.SellerHoldId, items);
        plan.Credit("buyer receives", terms.BuyerId, items);
        return new SettlementSaga(
            settlementId,
            SettlementKind.Fill,
            plan.Steps,
            [new HoldRef(terms.BuyerId, terms.BuyerHoldId), new HoldRef(terms.SellerId, terms.SellerHoldId)],
            terms.Fee,
            terms.Currency);
    }

    /// <summary>
    /// The settlement of a direct trade: capture A's side from A's hold, capture B's side from B's hold, credit B with
    /// A's side, credit A with B's side. An empty side has no steps (a gift). Throws <see cref="ArgumentException"/>
    /// for terms that cannot settle.
    /// </summary>
    public static SettlementSaga ForSwap(string settlementId, SwapTerms terms)
    {
        RequireId(settlementId);
        RequirePlayer(terms.PlayerA);
        RequirePlayer(terms.PlayerB);
        Require(terms.PlayerA != terms.PlayerB, "a swap needs two different players");
        RequireKey(terms.HoldA, "hold A");
        RequireKey(terms.HoldB, "hold B");
        RequireBundle(terms.GivesA, "A's side");
        RequireBundle(terms.GivesB, "B's side");
        Require(!terms.GivesA.IsEmpty || !terms.GivesB.IsEmpty, "both sides are empty: nothing to settle");

        var plan = new Plan(settlementId, $"trade ({settlementId})", $"undo trade ({settlementId})");
        if (!terms.GivesA.IsEmpty)
        {
            plan.Capture($"{terms.PlayerA} gives", terms.PlayerA, terms.HoldA, terms.GivesA.Copy());
        }
        if (!terms.GivesB.IsEmpty)
        {
            plan.Capture($"{terms.PlayerB} gives", terms.PlayerB, terms.HoldB, terms.GivesB.Copy());
        }
        if (!terms.GivesA.IsEmpty)
        {
            plan.Credit($"{terms.PlayerB} receives", terms.PlayerB, terms.GivesA.Copy());
        }
        if (!terms.GivesB.IsEmpty)
        {
            plan.Credit($"{terms.PlayerA} receives", terms.PlayerA, terms.GivesB.Copy());
        }
        return new SettlementSaga(
            settlementId,
            SettlementKind.Swap,
            plan.Steps,
            [new HoldRef(terms.PlayerA, terms.HoldA), new HoldRef(terms.PlayerB, terms.HoldB)],
            0,
            null);
    }

    /// <summary>The call to make now (a step forward, or a compensation backward); null once finished.</summary>
    public WalletCall? Next() => Status switch
    {
        SagaStatus.Pending => _steps[_position].Action,
        SagaStatus.Compensating => CompensationAt(_position),
        _ => null,
    };

    /// <summary>Records what became of the call <see cref="Next"/> returned.</summary>
    public void Record(StepResult result, DateTimeOffset at) => Record(result, at, null);

    /// <summary>Records what became of the call <see cref="Next"/> returned; <paramref name="detail"/> (the wallet's message) goes into the failure reason and the log.</summary>
    public void Record(StepResult result, DateTimeOffset at, string? detail)
    {
        var call = Next() ?? throw new InvalidOperationException($"settlement {Id} is {Status}: there is no call to record");
        var step = _steps[_position];
        var compensating = Status == SagaStatus.Compensating;
        var attempt = ++Attempts;
        TotalAttempts++;
        var note = detail;
        var what = $"step {_position + 1} ({step.Name})";
        switch (compensating, result)
        {
            case (false, StepResult.Done):
                Advance();
                if (_position == _steps.Count)
                {
                    Status = SagaStatus.Settled;
                }
                break;
            case (false, StepResult.Retry) when attempt >= MaxForwardAttempts:
                note = $"no answer after {attempt} attempts: outcome unknown, undoing it if it was applied";
                FailureReason = $"{what} got no answer after {attempt} attempts";
                _uncertainStep = _position;
                CompensateFrom(_position);
                break;
            case (false, StepResult.Failed):
                FailureReason = detail is null ? $"{what} was refused" : $"{what} was refused: {detail}";
                CompensateFrom(_position - 1);
                break;
            case (true, StepResult.Done):
                CompensateFrom(_position - 1);
                break;
            case (true, StepResult.Failed):
                Status = SagaStatus.Stuck;
                FailureReason = $"{FailureReason}; undoing {what} was refused{(detail is null ? "" : ": " + detail)}; an operator must settle the rest";
                break;
            default:
                // A retry: the same call again later. Compensations never give up.
                break;
        }
        _log.Add(new SagaLogEntry(at, step.Name, compensating, call.Key, result, attempt, note));
        if (_log.Count > LogKept)
        {
            _log.RemoveRange(0, _log.Count - LogKept);
        }
    }

    // ---------------------------------------------------------------- state

    public SettlementState ToState() => new()
    {
        Id = Id,
        Kind = Kind,
        Steps = [.. _steps.Select(CopyStep)],
        Holds = [.. _holds],
        Fee = Fee,
        FeeCurrency = FeeCurrency,
        Status = Status,
        Position = _position,
        UncertainStep = _uncertainStep,
        Attempts = Attempts,
        TotalAttempts = TotalAttempts,
        FailureReason = FailureReason,
        Log = [.. _log],
    };

    /// <summary>A saga as it was stored. Throws <see cref="ArgumentException"/> when the state is not one a saga can be in.</summary>
    public static SettlementSaga FromState(SettlementState state)
    {
        RequireId(state.Id);
        Require(state.Steps.Count > 0, "a saga has steps");
        var position = state.Status switch
        {
            SagaStatus.Pending => state.Position >= 0 && state.Position < state.Steps.Count,
            SagaStatus.Settled => state.Position == state.Steps.Count,
            SagaStatus.Compensated => state.Position == -1,
            _ => state.Position >= 0 && state.Position < state.Steps.Count && state.Steps[state.Position].Compensation is not null,
        };
        Require(position, $"position {state.Position} with status {state.Status} and {state.Steps.Count} steps");
        Require(state.UncertainStep is null || (state.UncertainStep >= 0 && state.UncertainStep < state.Steps.Count), "uncertain step out of range");
        var saga = new SettlementSaga(state.Id, state.Kind, [.. state.Steps.Select(CopyStep)], [.. state.Holds], state.Fee, state.FeeCurrency)
        {
            Status = state.Status,
            _position = state.Position,
            _uncertainStep = state.UncertainStep,
            Attempts = state.Attempts,
            TotalAttempts = state.TotalAttempts,
            FailureReason = state.FailureReason,
        };
        saga._log.AddRange(state.Log);
        return saga;
    }

    // ---------------------------------------------------------------- moves

    private void Advance()
    {
        _position++;
        Attempts = 0;
    }

    /// <summary>Compensates from step <paramref name="index"/> down, skipping steps with nothing to undo.</summary>
    private void CompensateFrom(int index)
    {
        Attempts = 0;
        while (index >= 0 && _steps[index].Compensation is null)
        {
            index--;
        }
        _position = index;
        Status = index < 0 ? SagaStatus.Compensated : SagaStatus.Compensating;
    }

    private WalletCall CompensationAt(int index)
    {
        var compensation = _steps[index].Compensation!;
        return index == _uncertainStep ? compensation with { OnlyIfApplied = _steps[index].Action.Key } : compensation;
    }

    private static SagaStep CopyStep(SagaStep step) => step with
    {
        Action = step.Action with { Assets = step.Action.Assets.Copy() },
        Compensation = step.Compensation is null ? null : step.Compensation with { Assets = step.Compensation.Assets.Copy() },
    };

    // ---------------------------------------------------------------- validation

    private static void RequireId(string id) =>
        Require(LedgerIds.IsValidPlayerId(id), $"settlement id '{id}' is not 1–64 of [A-Za-z0-9_.-]");

    private static void RequirePlayer(string playerId) =>
        Require(LedgerIds.IsValidPlayerId(playerId), $"player id '{playerId}' is not 1–64 of [A-Za-z0-9_.-]");

    private static void RequireKey(string holdId, string what) =>
        Require(LedgerIds.IsValidKey(holdId), $"{what} '{holdId}' is not 1–128 of [A-Za-z0-9._:-]");

    private static void RequireBundle(AssetBundle? bundle, string what)
    {
        Require(bundle is not null, $"{what} is missing");
        var (error, message) = bundle!.Validate();
        Require(error == LedgerError.None, $"{what}: {message}");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }

    /// <summary>Builds the (step, compensation) pairs with their deterministic keys.</summary>
    private sealed class Plan(string settlementId, string reason, string undoReason)
    {
        public List<SagaStep> Steps { get; } = [];

        public void Capture(string name, string playerId, string holdId, AssetBundle assets) => Add(
            name,
            new WalletCall(playerId, WalletOp.Capture, Key(), holdId, assets, reason),
            new WalletCall(playerId, WalletOp.Credit, Key() + ":undo", null, assets.Copy(), undoReason));

        public void Credit(string name, string playerId, AssetBundle assets) => Add(
            name,
            new WalletCall(playerId, WalletOp.Credit, Key(), null, assets, reason),
            new WalletCall(playerId, WalletOp.Debit, Key() + ":undo", null, assets.Copy(), undoReason));

        private string Key() => $"settle:{settlementId}:{Steps.Count + 1}";

        private void Add(string name, WalletCall action, WalletCall compensation) => Steps.Add(new SagaStep(name, action, compensation));
    }
}
