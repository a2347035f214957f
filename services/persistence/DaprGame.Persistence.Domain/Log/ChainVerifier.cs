namespace DaprGame.Persistence.Domain.Log;

/// <summary>The first thing wrong with a log, or <see cref="IsValid"/>.</summary>
public sealed record ChainReport(bool IsValid, long FirstBadPosition, string? Problem)
{
    public static ChainReport Valid { get; } = new(true, 0, null);
}

/// <summary>
/// Walks records in order and reports the first position whose position, link or hash is wrong. Any edit of a stored
/// record — its data, a field, its hash — is reported at that record's position (a changed hash also fails there,
/// since the recomputed hash no longer matches it).
/// </summary>
public static class ChainVerifier
{
    /// <param name="start">Where the walk begins: <see cref="LogHead.Empty"/> for the whole log, or the head at an archive point.</param>
    public static ChainReport Verify(IEnumerable<LogRecord> records, LogHead? start = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        start ??= LogHead.Empty;
        var expectedPosition = start.Position + 1;
        var previousHash = start.Hash;
        foreach (var record in records)
        {
            if (record.Position != expectedPosition)
            {
                return new ChainReport(false, expectedPosition, $"expected position {expectedPosition}, found {record.Position}");
            }
            if (!record.PreviousHash.AsSpan().SequenceEqual(previousHash))
            {
                return new ChainReport(false, record.Position, "previous hash does not match the record before");
            }
            if (!RecordHash.Compute(record).AsSpan().SequenceEqual(record.Hash))
            {
                return new ChainReport(false, record.Position, "hash does not match the record's content");
            }
            previousHash = record.Hash;
            expectedPosition++;
        }
        return ChainReport.Valid;
    }
}
