using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Retention;

/// <summary>
/// A decision only: which positions may move to the archive. Nothing is deleted here. Because records are chained, the
/// host archives a contiguous prefix: it may drop records 1..P from the live store only after writing an archive marker
/// holding position P and its hash (the <see cref="LogHead"/> that <see cref="ChainVerifier"/> then starts from), so
/// the eligible prefix ends before the first record that must stay. Streams matching no policy, rollback markers and
/// anything a view's watermark has not passed are kept.
/// </summary>
public static class RetentionRules
{
    /// <returns>The highest position P such that records 1..P may all be archived (0: none).</returns>
    public static long ArchivablePrefix(
        IReadOnlyList<LogRecord> records, IReadOnlyList<RetentionPolicy> policies, DateTimeOffset now, long lowestWatermark)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(policies);
        var remaining = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            remaining[record.StreamId] = remaining.GetValueOrDefault(record.StreamId) + 1;
        }
        var prefix = 0L;
        foreach (var record in records)
        {
            var left = remaining[record.StreamId]--;
            if (record.Position > lowestWatermark || !MayArchive(record, left, policies, now))
            {
                break;
            }
            prefix = record.Position;
        }
        return prefix;
    }

    private static bool MayArchive(LogRecord record, long newerAndSelf, IReadOnlyList<RetentionPolicy> policies, DateTimeOffset now)
    {
        if (record.Kind != RecordKind.Event)
        {
            return false;
        }
        foreach (var policy in policies)
        {
            if (record.StreamId.StartsWith(policy.StreamPrefix, StringComparison.Ordinal))
            {
                var beyondCount = policy.KeepLast is { } last && newerAndSelf > last;
                var beyondAge = policy.KeepFor is { } age && now - record.OccurredAt > age;
                var countOk = policy.KeepLast is null || beyondCount;
                var ageOk = policy.KeepFor is null || beyondAge;
                return (policy.KeepLast is not null || policy.KeepFor is not null) && countOk && ageOk;
            }
        }
        return false;
    }
}
