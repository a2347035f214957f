namespace DaprGame.Persistence.Domain.Log;

/// <summary>Why a rollback request was refused; a refused request changes nothing.</summary>
public enum RollbackError
{
    None,

    /// <summary>The target is negative or not before the head (rolling back to the head would be a no-op).</summary>
    TargetOutOfRange,

    /// <summary>Who and why are required: a rollback is an audited act.</summary>
    MissingReason,
}
