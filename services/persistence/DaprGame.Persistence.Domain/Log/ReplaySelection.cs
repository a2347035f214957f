namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// Picks records to republish. Rollback markers are never selected (they are the log's, not a service's); rolled-back
/// events are left out unless asked for, so a republished stream tells the history as it now stands.
/// </summary>
public static class ReplaySelection
{
    /// <summary>Events with <paramref name="from"/> ≤ position ≤ <paramref name="to"/>, in position order.</summary>
    public static List<LogRecord> ByPosition(IReadOnlyList<LogRecord> records, long from, long to, bool includeRolledBack = false) =>
        Select(records, from, to, null, 1, includeRolledBack);

    /// <summary>One stream's events from version <paramref name="fromVersion"/> on, in position (= version) order.</summary>
    public static List<LogRecord> ByStream(IReadOnlyList<LogRecord> records, string streamId, long fromVersion = 1, bool includeRolledBack = false) =>
        Select(records, 1, long.MaxValue, streamId, fromVersion, includeRolledBack);

    private static List<LogRecord> Select(
        IReadOnlyList<LogRecord> records, long from, long to, string? streamId, long fromVersion, bool includeRolledBack)
    {
        ArgumentNullException.ThrowIfNull(records);
        var rolledBack = includeRolledBack ? [] : LiveSet.RolledBack(records);
        var selected = new List<LogRecord>();
        foreach (var record in records)
        {
            if (record.Kind != RecordKind.Event || record.Position < from || record.Position > to
                || (streamId is not null && (record.StreamId != streamId || record.StreamVersion < fromVersion))
                || rolledBack.Contains(record.Position))
            {
                continue;
            }
            selected.Add(record);
        }
        return selected;
    }
}
