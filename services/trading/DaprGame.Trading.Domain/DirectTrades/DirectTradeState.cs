using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.DirectTrades;

/// <summary>A direct trade as stored (actor state): plain settable properties for a reflection serializer.</summary>
public sealed class DirectTradeState
{
    public string TradeId { get; set; } = "";

    public string Proposer { get; set; } = "";

    public string Counterparty { get; set; } = "";

    public AssetBundle ProposerGives { get; set; } = new();

    public AssetBundle CounterpartyGives { get; set; } = new();

    public TradeStatus Status { get; set; }

    public DateTimeOffset ProposedAt { get; set; }

    /// <summary>The deadline: from then on the trade can only expire (unless it is already settling).</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? AcceptedAt { get; set; }

    public bool ProposerConfirmed { get; set; }

    public bool CounterpartyConfirmed { get; set; }

    public string? SettlementId { get; set; }

    /// <summary>Who cancelled, when <see cref="Status"/> is <see cref="TradeStatus.Cancelled"/>.</summary>
    public string? CancelledBy { get; set; }

    /// <summary>When it was cancelled or expired.</summary>
    public DateTimeOffset? EndedAt { get; set; }

    public string? FailureReason { get; set; }
}
