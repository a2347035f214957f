namespace DaprGame.Trading.Domain.DirectTrades;

/// <summary>Where a direct trade is. Append-only (stored).</summary>
public enum TradeStatus
{
    /// <summary>Offered by the proposer; the counterparty may accept.</summary>
    Proposed,

    /// <summary>The counterparty accepted; each party confirms once.</summary>
    Accepted,

    /// <summary>Both sides are held in the players' wallets.</summary>
    Escrowed,

    /// <summary>The settlement saga runs; the trade can no longer be cancelled or expire.</summary>
    Settling,

    Completed,

    Cancelled,

    Expired,

    Failed,
}

/// <summary>Why a trade command was refused. Append-only: the host maps these to error codes.</summary>
public enum TradeError
{
    None,

    /// <summary>The command's input is malformed.</summary>
    Invalid,

    /// <summary>The player is neither the proposer nor the counterparty.</summary>
    NotAParty,

    /// <summary>Only the counterparty may accept.</summary>
    NotCounterparty,

    /// <summary>The trade is not in a state that allows the command.</summary>
    WrongState,

    /// <summary>The trade's deadline has passed.</summary>
    Expired,

    /// <summary>The player confirmed already.</summary>
    AlreadyConfirmed,
}

/// <summary>The answer to a trade command. A refused command changed nothing.</summary>
public sealed record TradeResult(TradeError Error, string? Message)
{
    public static readonly TradeResult Success = new(TradeError.None, null);

    public bool Ok => Error == TradeError.None;
}
