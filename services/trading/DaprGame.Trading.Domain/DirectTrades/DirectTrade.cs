using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;

namespace DaprGame.Trading.Domain.DirectTrades;

/// <summary>
/// A trade between two players, outside the order book: the proposer offers a bundle for a bundle; the counterparty
/// accepts; each confirms once; the host holds both sides (<see cref="HoldIdFor"/>), says so with <see cref="Escrowed"/>,
/// runs the swap saga (<see cref="ToSwapTerms"/>, <see cref="SettlementStarted"/>) and reports the end with
/// <see cref="Finished"/>. Either party may cancel before settling starts; past the deadline the trade expires
/// (<see cref="Expire"/>), unless it is settling already.
/// <para>The domain decides, the host acts: player commands return a <see cref="TradeResult"/> (a refusal changes
/// nothing); the host's own steps (<see cref="Escrowed"/>, <see cref="SettlementStarted"/>, <see cref="Finished"/>)
/// throw <see cref="InvalidOperationException"/> when called out of order, and accept being repeated. Once a trade is
/// over (completed, cancelled, expired, failed), the host releases both hold ids; releasing one never placed is a
/// harmless <see cref="LedgerError.UnknownHold"/>, and after a completed swap what is left of a hold is returned.</para>
/// </summary>
public sealed class DirectTrade
{
    /// <summary>The longest a trade offer may stay open.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(30);

    private readonly DirectTradeState _state;

    private DirectTrade(DirectTradeState state) => _state = state;

    public string TradeId => _state.TradeId;

    public string Proposer => _state.Proposer;

    public string Counterparty => _state.Counterparty;

    public TradeStatus Status => _state.Status;

    public DateTimeOffset ExpiresAt => _state.ExpiresAt;

    public string? SettlementId => _state.SettlementId;

    public string? FailureReason => _state.FailureReason;

    /// <summary>Accepted, and confirmed by both: the host may hold both sides now.</summary>
    public bool ReadyToEscrow => _state.Status == TradeStatus.Accepted && _state.ProposerConfirmed && _state.CounterpartyConfirmed;

    /// <summary>True when the trade is over.</summary>
    public bool IsFinished => _state.Status is TradeStatus.Completed or TradeStatus.Cancelled or TradeStatus.Expired or TradeStatus.Failed;

    /// <summary>A new offer. Throws <see cref="ArgumentException"/> when <see cref="TryPropose"/> would refuse it.</summary>
    public static DirectTrade Propose(string tradeId, string proposer, string counterparty, AssetBundle proposerGives, AssetBundle counterpartyGives, DateTimeOffset at, TimeSpan ttl)
    {
        var result = TryPropose(tradeId, proposer, counterparty, proposerGives, counterpartyGives, at, ttl, out var trade);
        return result.Ok ? trade! : throw new ArgumentException(result.Message);
    }

    /// <summary>
    /// A new offer, or <see cref="TradeError.Invalid"/>: trade id 1–48 of <c>[A-Za-z0-9_.-]</c>, two different
    /// well-formed players, valid bundles (see <see cref="AssetBundle.Validate"/>) of which at least one is not empty,
    /// and 0 &lt; <paramref name="ttl"/> ≤ <see cref="MaxTtl"/>.
    /// </summary>
    public static TradeResult TryPropose(string tradeId, string proposer, string counterparty, AssetBundle proposerGives, AssetBundle counterpartyGives, DateTimeOffset at, TimeSpan ttl, out DirectTrade? trade)
    {
        trade = null;
        var problem =
            !IsValidTradeId(tradeId) ? $"trade id '{tradeId}' is not 1–48 of [A-Za-z0-9_.-]"
            : !LedgerIds.IsValidPlayerId(proposer) ? $"player id '{proposer}' is not 1–64 of [A-Za-z0-9_.-]"
            : !LedgerIds.IsValidPlayerId(counterparty) ? $"player id '{counterparty}' is not 1–64 of [A-Za-z0-9_.-]"
            : proposer == counterparty ? "a trade needs two different players"
            : proposerGives is null || counterpartyGives is null ? "both sides are needed (one may be empty)"
            : proposerGives.Validate().Message is { } p ? $"proposer's side: {p}"
            : counterpartyGives.Validate().Message is { } c ? $"counterparty's side: {c}"
            : proposerGives.IsEmpty && counterpartyGives.IsEmpty ? "both sides are empty"
            : ttl <= TimeSpan.Zero || ttl > MaxTtl ? $"time to live must be more than 0 and at most {MaxTtl.TotalDays} days"
            : null;
        if (problem is not null)
        {
            return Refused(TradeError.Invalid, problem);
        }
        trade = new DirectTrade(new DirectTradeState
        {
            TradeId = tradeId,
            Proposer = proposer,
            Counterparty = counterparty,
            ProposerGives = proposerGives!.Copy(),
            CounterpartyGives = counterpartyGives!.Copy(),
            Status = TradeStatus.Proposed,
            ProposedAt = at,
            ExpiresAt = at + ttl,
        });
        return TradeResult.Success;
    }

    /// <summary>Trade ids: 1–48 of <c>[A-Za-z0-9_.-]</c>, so that hold ids <c>trade:{id}:{player}</c> stay valid keys.</summary>
    public static bool IsValidTradeId(string? tradeId) =>
        tradeId is { Length: >= 1 and <= 48 } && tradeId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    // ---------------------------------------------------------------- player commands

    /// <summary>The counterparty takes the offer: only while proposed and before the deadline.</summary>
    public TradeResult Accept(string playerId, DateTimeOffset at)
    {
        if (PartyCheck(playerId) is { } notAParty)
        {
            return notAParty;
        }
        if (playerId != _state.Counterparty)
        {
            return Refused(TradeError.NotCounterparty, "only the counterparty can accept");
        }
        if (_state.Status != TradeStatus.Proposed)
        {
            return Refused(TradeError.WrongState, $"the trade is {_state.Status}, not Proposed");
        }
        if (at >= _state.ExpiresAt)
        {
            return Refused(TradeError.Expired, $"the offer expired at {_state.ExpiresAt:O}");
        }
        _state.Status = TradeStatus.Accepted;
        _state.AcceptedAt = at;
        return TradeResult.Success;
    }

    /// <summary>Each party confirms once, after acceptance and before the deadline; both confirmed → <see cref="ReadyToEscrow"/>.</summary>
    public TradeResult Confirm(string playerId, DateTimeOffset at)
    {
        if (PartyCheck(playerId) is { } notAParty)
        {
            return notAParty;
        }
        var isProposer = playerId == _state.Proposer;
        if (isProposer ? _state.ProposerConfirmed : _state.CounterpartyConfirmed)
        {
            return Refused(TradeError.AlreadyConfirmed, $"{playerId} confirmed already");
        }
        if (_state.Status != TradeStatus.Accepted)
        {
            return Refused(TradeError.WrongState, $"the trade is {_state.Status}, not Accepted");
        }
        if (at >= _state.ExpiresAt)
        {
            return Refused(TradeError.Expired, $"the trade expired at {_state.ExpiresAt:O}");
        }
        if (isProposer)
        {
            _state.ProposerConfirmed = true;
        }
        else
        {
            _state.CounterpartyConfirmed = true;
        }
        return TradeResult.Success;
    }

    /// <summary>Either party calls the trade off, any time before settling starts (held sides are then released by the host).</summary>
    public TradeResult Cancel(string playerId, DateTimeOffset at)
    {
        if (PartyCheck(playerId) is { } notAParty)
        {
            return notAParty;
        }
        if (_state.Status is not (TradeStatus.Proposed or TradeStatus.Accepted or TradeStatus.Escrowed))
        {
            return Refused(TradeError.WrongState, $"the trade is {_state.Status}: it can no longer be cancelled");
        }
        _state.Status = TradeStatus.Cancelled;
        _state.CancelledBy = playerId;
        _state.EndedAt = at;
        return TradeResult.Success;
    }

    /// <summary>Past the deadline and not settling yet → <see cref="TradeStatus.Expired"/> (true); otherwise nothing changes (false).</summary>
    public bool Expire(DateTimeOffset at)
    {
        if (at < _state.ExpiresAt || _state.Status is not (TradeStatus.Proposed or TradeStatus.Accepted or TradeStatus.Escrowed))
        {
            return false;
        }
        _state.Status = TradeStatus.Expired;
        _state.EndedAt = at;
        return true;
    }

    // ---------------------------------------------------------------- host steps

    /// <summary>The host placed both holds. Allowed when <see cref="ReadyToEscrow"/>; repeating it is a no-op.</summary>
    public void Escrowed()
    {
        if (_state.Status == TradeStatus.Escrowed)
        {
            return;
        }
        HostStep(ReadyToEscrow, "escrow", "accepted and confirmed by both");
        _state.Status = TradeStatus.Escrowed;
    }

    /// <summary>The host started settlement <paramref name="settlementId"/>. Allowed when escrowed; repeating it with the same id is a no-op.</summary>
    public void SettlementStarted(string settlementId)
    {
        if (_state.Status == TradeStatus.Settling && _state.SettlementId == settlementId)
        {
            return;
        }
        HostStep(_state.Status == TradeStatus.Escrowed && !string.IsNullOrEmpty(settlementId), "start settling", "escrowed");
        _state.Status = TradeStatus.Settling;
        _state.SettlementId = settlementId;
    }

    /// <summary>
    /// The end: settled → <see cref="TradeStatus.Completed"/> (only from settling); not settled →
    /// <see cref="TradeStatus.Failed"/> (from settling, or from accepted/escrowed when escrow could not be placed).
    /// Repeating the same end is a no-op.
    /// </summary>
    public void Finished(bool settled, string? reason)
    {
        if ((settled && _state.Status == TradeStatus.Completed) || (!settled && _state.Status == TradeStatus.Failed))
        {
            return;
        }
        var allowed = settled
            ? _state.Status == TradeStatus.Settling
            : _state.Status is TradeStatus.Accepted or TradeStatus.Escrowed or TradeStatus.Settling;
        HostStep(allowed, settled ? "complete" : "fail", settled ? "settling" : "accepted, escrowed or settling");
        _state.Status = settled ? TradeStatus.Completed : TradeStatus.Failed;
        _state.FailureReason = settled ? null : reason ?? "settlement failed";
    }

    // ---------------------------------------------------------------- what the host needs

    /// <summary>The hold id of a party's side: <c>trade:{id}:{player}</c>, the same on every call.</summary>
    public string HoldIdFor(string playerId) => IsParty(playerId)
        ? $"trade:{_state.TradeId}:{playerId}"
        : throw new ArgumentException($"{playerId} is not a party to trade {_state.TradeId}", nameof(playerId));

    /// <summary>What a party gives (a copy), to hold before escrow.</summary>
    public AssetBundle Gives(string playerId) =>
        playerId == _state.Proposer ? _state.ProposerGives.Copy()
        : playerId == _state.Counterparty ? _state.CounterpartyGives.Copy()
        : throw new ArgumentException($"{playerId} is not a party to trade {_state.TradeId}", nameof(playerId));

    /// <summary>The swap to settle: the proposer is A, the counterparty B.</summary>
    public SwapTerms ToSwapTerms() => new(
        _state.Proposer, HoldIdFor(_state.Proposer), _state.ProposerGives.Copy(),
        _state.Counterparty, HoldIdFor(_state.Counterparty), _state.CounterpartyGives.Copy());

    // ---------------------------------------------------------------- state

    public static DirectTrade FromState(DirectTradeState s)
    {
        if (!IsValidTradeId(s.TradeId) || !LedgerIds.IsValidPlayerId(s.Proposer) || !LedgerIds.IsValidPlayerId(s.Counterparty) || s.Proposer == s.Counterparty)
        {
            throw new ArgumentException($"trade state is not valid: trade {s.TradeId} between {s.Proposer} and {s.Counterparty}");
        }
        return new DirectTrade(Copy(s));
    }

    public DirectTradeState ToState() => Copy(_state);

    private static DirectTradeState Copy(DirectTradeState s) => new()
    {
        TradeId = s.TradeId,
        Proposer = s.Proposer,
        Counterparty = s.Counterparty,
        ProposerGives = s.ProposerGives.Copy(),
        CounterpartyGives = s.CounterpartyGives.Copy(),
        Status = s.Status,
        ProposedAt = s.ProposedAt,
        ExpiresAt = s.ExpiresAt,
        AcceptedAt = s.AcceptedAt,
        ProposerConfirmed = s.ProposerConfirmed,
        CounterpartyConfirmed = s.CounterpartyConfirmed,
        SettlementId = s.SettlementId,
        CancelledBy = s.CancelledBy,
        EndedAt = s.EndedAt,
        FailureReason = s.FailureReason,
    };

    private bool IsParty(string playerId) => playerId == _state.Proposer || playerId == _state.Counterparty;

    private TradeResult? PartyCheck(string playerId) =>
        IsParty(playerId) ? null : Refused(TradeError.NotAParty, $"{playerId} is not a party to trade {_state.TradeId}");

    private void HostStep(bool allowed, string what, string needs)
    {
        if (!allowed)
        {
            throw new InvalidOperationException($"trade {_state.TradeId} is {_state.Status}: cannot {what} (needs {needs})");
        }
    }

    private static TradeResult Refused(TradeError error, string message) => new(error, message);
}
