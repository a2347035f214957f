namespace DaprGame.Persistence.Domain.Log;

/// <summary>What a log record is. Persisted as its number: never renumber.</summary>
public enum RecordKind
{
    /// <summary>An integration event from a service.</summary>
    Event = 0,

    /// <summary>A rollback marker (<see cref="RollbackMarker"/>): the log's own record, never an event of a stream.</summary>
    Rollback = 1,
}
