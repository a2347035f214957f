namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// Which event records count, given the rollback markers. Walking positions in order, an event joins the live set and a
/// marker to P replaces the live set with the one at P (<see cref="RollbackMarker"/> explains why "at P" counts the
/// rollbacks before P). A record not in the live set at the head is "rolled back": still in the log, skipped by views.
/// </summary>
public static class LiveSet
{
    /// <summary>Live event positions, ascending, as of <paramref name="upTo"/> (inclusive).</summary>
    /// <param name="records">Records by position (<c>records[p - 1]</c> is position p).</param>
    public static List<long> At(IReadOnlyList<LogRecord> records, long upTo)
    {
        ArgumentNullException.ThrowIfNull(records);
        return At(records, Math.Min(upTo, records.Count), new Dictionary<long, List<long>>());
    }

    /// <summary>Positions in (0, head] of events that are rolled back at the head.</summary>
    public static HashSet<long> RolledBack(IReadOnlyList<LogRecord> records)
    {
        var live = new HashSet<long>(At(records, records.Count));
        var rolledBack = new HashSet<long>();
        foreach (var record in records)
        {
            if (record.Kind == RecordKind.Event && !live.Contains(record.Position))
            {
                rolledBack.Add(record.Position);
            }
        }
        return rolledBack;
    }

    private static List<long> At(IReadOnlyList<LogRecord> records, long upTo, Dictionary<long, List<long>> memo)
    {
        if (memo.TryGetValue(upTo, out var known))
        {
            return known;
        }
        var live = new List<long>();
        for (var position = 1L; position <= upTo; position++)
        {
            var record = records[(int)(position - 1)];
            if (record.Kind == RecordKind.Event)
            {
                live.Add(position);
            }
            else if (record.Kind == RecordKind.Rollback)
            {
                live = new List<long>(At(records, record.Sequence, memo));
            }
        }
        memo[upTo] = live;
        return live;
    }
}
