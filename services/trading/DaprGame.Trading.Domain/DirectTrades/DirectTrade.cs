using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.DirectTrades;

public enum TradeStatus
{
    Proposed,
    Accepted,
    Escrowed,
    Settling,
    Completed,
    Cancelled,
    Expired,
    Failed,
}

public enum TradeError
{
    None,
    NotAParty,
    NotCounterparty,
    WrongState,
    Expired,
    AlreadyConfirmed,
}

/// <summary>The answer to a player's action on a trade.</summary>
public sealed record TradeResult(TradeError Error, string? Message)
{
    public static TradeResult Success { get; } = new(TradeError.None, null);

    public bool Ok => Error == TradeError.None;
}

/// <summary>A direct trade as stored.</summary>
public sealed class DirectTradeState
{
    public string TradeId { get; set; } = "";

    public string Proposer { get; set; } = "";

    public string Counterparty { get; set; } = "";

    public AssetBundle ProposerGives { get; set; } = new();

    public AssetBundle CounterpartyGives { get; set; } = new();

    public TradeStatus Status { get; set; }

    public bool ProposerConfirmed { get; set; }

    public bool CounterpartyConfirmed { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public string? SettlementId { get; set; }

    public string? Reason { get; set; }
}

/// <summary>
/// A trade between two players: the proposer offers a bundle for a bundle; the counterparty accepts; both confirm
/// (each once, after acceptance); then both sides are held (escrow) and a swap settlement moves them. Either party may
/// cancel and the deadline expires the trade until the settlement starts; after that only the settlement ends it.
/// </summary>
public sealed class DirectTrade
{
    private readonly DirectTradeState _s;

    private DirectTrade(DirectTradeState state) => _s = state;

    public string TradeId => _s.TradeId;

    public string Proposer => _s.Proposer;

    public string Counterparty => _s.Counterparty;

    public AssetBundle ProposerGives => _s.ProposerGives;

    public AssetBundle CounterpartyGives => _s.CounterpartyGives;

    public TradeStatus Status => _s.Status;

    public string? SettlementId => _s.SettlementId;

    public DateTimeOffset ExpiresAt => _s.ExpiresAt;

    /// <summary>Accepted, and both parties confirmed: the holds can be taken.</summary>
    public bool ReadyToEscrow => _s.Status == TradeStatus.Accepted && _s.ProposerConfirmed && _s.CounterpartyConfirmed;

    /// <exception cref="ArgumentException">Not two different players, nothing offered either way, or an invalid bundle.</exception>
    public static DirectTrade Propose(string tradeId, string proposer, string counterparty, AssetBundle proposerGives, AssetBundle counterpartyGives, DateTimeOffset at, TimeSpan ttl)
    {
        ArgumentException.ThrowIfNullOrEmpty(tradeId);
        ArgumentException.ThrowIfNullOrEmpty(proposer);
        ArgumentException.ThrowIfNullOrEmpty(counterparty);
        if (proposer == counterparty)
        {
            throw new ArgumentException("a trade needs two different players");
        }
        if (proposerGives.IsEmpty && counterpartyGives.IsEmpty)
        {
            throw new ArgumentException("a trade moves something at least one way");
        }
        foreach (var bundle in new[] { proposerGives, counterpartyGives })
        {
            if (!bundle.IsEmpty && bundle.Validate() is { Error: not LedgerError.None } invalid)
            {
                throw new ArgumentException($"invalid bundle: {invalid.Message}");
            }
        }
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentException("a trade's lifetime is positive", nameof(ttl));
        }
        return new DirectTrade(new DirectTradeState
        {
            TradeId = tradeId, Proposer = proposer, Counterparty = counterparty, ProposerGives = proposerGives.Copy(), CounterpartyGives = counterpartyGives.Copy(),
            Status = TradeStatus.Proposed, CreatedAt = at, ExpiresAt = at + ttl,
        });
    }

    public static DirectTrade FromState(DirectTradeState state) => new(Copy(state));

    public DirectTradeState ToState() => Copy(_s);

    public TradeResult Accept(string playerId, DateTimeOffset at)
    {
        if (Refusal(playerId, at) is { } refused)
        {
            return refused;
        }
        if (playerId != _s.Counterparty)
        {
            return new(TradeError.NotCounterparty, "only the counterparty accepts a trade");
        }
        if (_s.Status != TradeStatus.Proposed)
        {
            return new(TradeError.WrongState, $"the trade is {_s.Status}, not proposed");
        }
        _s.Status = TradeStatus.Accepted;
        return TradeResult.Success;
    }

    public TradeResult Confirm(string playerId, DateTimeOffset at)
    {
        if (Refusal(playerId, at) is { } refused)
        {
            return refused;
        }
        if (_s.Status != TradeStatus.Accepted)
        {
            return new(TradeError.WrongState, $"the trade is {_s.Status}; confirm after it is accepted");
        }
        var mine = playerId == _s.Proposer ? _s.ProposerConfirmed : _s.CounterpartyConfirmed;
        if (mine)
        {
            return new(TradeError.AlreadyConfirmed, "you already confirmed");
        }
        if (playerId == _s.Proposer)
        {
            _s.ProposerConfirmed = true;
        }
        else
        {
            _s.CounterpartyConfirmed = true;
        }
        return TradeResult.Success;
    }

    public TradeResult Cancel(string playerId, DateTimeOffset at)
    {
        if (!IsParty(playerId))
        {
            return new(TradeError.NotAParty, "not your trade");
        }
        if (_s.Status is not (TradeStatus.Proposed or TradeStatus.Accepted or TradeStatus.Escrowed))
        {
            return new(TradeError.WrongState, $"the trade is {_s.Status}; it can no longer be cancelled");
        }
        _s.Status = TradeStatus.Cancelled;
        _s.Reason = "cancelled by " + playerId;
        return TradeResult.Success;
    }

    /// <summary>Past the deadline and not yet settling → Expired (true). Otherwise nothing changes (false).</summary>
    public bool Expire(DateTimeOffset at)
    {
        if (at < _s.ExpiresAt || _s.Status is not (TradeStatus.Proposed or TradeStatus.Accepted or TradeStatus.Escrowed))
        {
            return false;
        }
        _s.Status = TradeStatus.Expired;
        _s.Reason = "expired";
        return true;
    }

    public void Escrowed() => Move(TradeStatus.Accepted, TradeStatus.Escrowed);

    public void SettlementStarted(string settlementId)
    {
        Move(TradeStatus.Escrowed, TradeStatus.Settling);
        _s.SettlementId = settlementId;
    }

    /// <summary>The end: settled → Completed; otherwise Failed with <paramref name="reason"/> (from Settling, or from Accepted when escrow was refused).</summary>
    public void Finished(bool settled, string? reason)
    {
        if (_s.Status is not (TradeStatus.Settling or TradeStatus.Accepted))
        {
            throw new InvalidOperationException($"trade {TradeId} is {_s.Status}; it cannot finish");
        }
        if (settled && _s.Status != TradeStatus.Settling)
        {
            throw new InvalidOperationException($"trade {TradeId} never settled");
        }
        _s.Status = settled ? TradeStatus.Completed : TradeStatus.Failed;
        _s.Reason = reason;
    }

    /// <summary>The hold id of a party's side: <c>trade:{id}:{player}</c>.</summary>
    public string HoldIdFor(string playerId) => $"trade:{TradeId}:{playerId}";

    private bool IsParty(string playerId) => playerId == _s.Proposer || playerId == _s.Counterparty;

    private TradeResult? Refusal(string playerId, DateTimeOffset at)
    {
        if (!IsParty(playerId))
        {
            return new(TradeError.NotAParty, "not your trade");
        }
        if (at >= _s.ExpiresAt && _s.Status is TradeStatus.Proposed or TradeStatus.Accepted)
        {
            return new(TradeError.Expired, "the trade has expired");
        }
        return null;
    }

    private void Move(TradeStatus from, TradeStatus to)
    {
        if (_s.Status != from)
        {
            throw new InvalidOperationException($"trade {TradeId} is {_s.Status}, not {from}");
        }
        _s.Status = to;
    }

    private static DirectTradeState Copy(DirectTradeState s) => new()
    {
        TradeId = s.TradeId, Proposer = s.Proposer, Counterparty = s.Counterparty, ProposerGives = s.ProposerGives.Copy(), CounterpartyGives = s.CounterpartyGives.Copy(),
        Status = s.Status, ProposerConfirmed = s.ProposerConfirmed, CounterpartyConfirmed = s.CounterpartyConfirmed, CreatedAt = s.CreatedAt,
        ExpiresAt = s.ExpiresAt, SettlementId = s.SettlementId, Reason = s.Reason,
    };
}
