namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// The head key's value (<see cref="LogKeys.Head"/>): the last position written and its hash. The host reads it with
/// its ETag and writes the next batch only if it is unchanged, so two writers can never fork the chain.
/// </summary>
public sealed record LogHead(long Position, byte[] Hash)
{
    public static LogHead Empty { get; } = new(0, RecordHash.Genesis.ToArray());
}

/// <summary>A stream's head key value (<see cref="LogKeys.Stream"/>): versions assigned so far and the highest event sequence seen.</summary>
public sealed record StreamHead(long Version, long HighestSequence);

/// <summary>A dedup key's value (<see cref="LogKeys.Dedup"/>): where the event id was appended and the hash of its content.</summary>
public sealed record DedupEntry(long Position, byte[] ContentHash);
