namespace DaprGame.Persistence.Domain.Log;

/// <summary>Plans the one-record batch that appends a <see cref="RollbackMarker"/>; written like any other <see cref="AppendPlan"/>.</summary>
public static class RollbackPlanner
{
    public static RollbackError Validate(LogHead head, RollbackMarker marker)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(marker);
        if (marker.ToPosition < 0 || marker.ToPosition >= head.Position)
        {
            return RollbackError.TargetOutOfRange;
        }
        return string.IsNullOrWhiteSpace(marker.By) || string.IsNullOrWhiteSpace(marker.Reason)
            ? RollbackError.MissingReason
            : RollbackError.None;
    }

    /// <param name="rollbacksSoFar">The <c>$rollback</c> stream's version so far (its head key), to number the marker.</param>
    public static AppendPlan Plan(LogHead head, long rollbacksSoFar, RollbackMarker marker)
    {
        var error = Validate(head, marker);
        if (error != RollbackError.None)
        {
            throw new ArgumentException($"rollback refused: {error}", nameof(marker));
        }
        var position = head.Position + 1;
        var version = rollbacksSoFar + 1;
        var data = marker.ToData();
        var eventId = $"rollback/{position}";
        var hash = RecordHash.Compute(
            position, RecordKind.Rollback, RollbackMarker.StreamId, version, marker.ToPosition, RecordFlags.None,
            eventId, RollbackMarker.EventType, marker.At, data, head.Hash);
        var record = new LogRecord(
            position, RecordKind.Rollback, RollbackMarker.StreamId, version, marker.ToPosition, RecordFlags.None,
            eventId, RollbackMarker.EventType, marker.At, data, head.Hash, hash);
        return new AppendPlan(
            head, new LogHead(position, hash), [record], [new AppendOutcome(AppendStatus.Appended, position, RecordFlags.None)],
            new(StringComparer.Ordinal) { [RollbackMarker.StreamId] = new StreamHead(version, marker.ToPosition) },
            new(StringComparer.Ordinal) { [eventId] = new DedupEntry(position, hash) });
    }
}
