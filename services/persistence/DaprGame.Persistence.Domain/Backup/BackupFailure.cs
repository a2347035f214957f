namespace DaprGame.Persistence.Domain.Backup;

/// <summary>Why an archive was refused. Persisted nowhere; reported to the host and its operators.</summary>
public enum BackupFailure
{
    None,

    /// <summary>The archive was written with another key (its key fingerprint differs and its checksum is intact).</summary>
    WrongKey,

    /// <summary>Some byte changed: a chunk's AES-GCM tag, the header, the trailing checksum or the archive's structure is wrong.</summary>
    Tampered,

    /// <summary>The file ends before the final chunk and its checksum.</summary>
    Truncated,

    /// <summary>The archive is intact but the records it holds do not chain from its previous head (see <see cref="BackupException.Position"/>).</summary>
    ChainBroken,

    /// <summary>The archived snapshot does not decode, lies beyond the archived records, or differs from a rebuild of them.</summary>
    SnapshotMismatch,

    /// <summary>A DGBK archive of a format version this code does not read.</summary>
    UnsupportedVersion,

    /// <summary>The file does not start with the DGBK magic.</summary>
    NotAnArchive,
}

/// <summary>An archive that cannot be read or restored, with the first thing found wrong.</summary>
public sealed class BackupException : Exception
{
    public BackupException()
    {
    }

    public BackupException(string message) : base(message)
    {
    }

    public BackupException(string message, Exception inner) : base(message, inner)
    {
    }

    public BackupException(BackupFailure failure, string message, long? chunk = null, long? offset = null, long? position = null, Exception? inner = null)
        : base($"{failure}: {message}", inner)
    {
        Failure = failure;
        Chunk = chunk;
        Offset = offset;
        Position = position;
    }

    public BackupFailure Failure { get; }

    /// <summary>The chunk (0-based) where the problem was found, when it is in a chunk.</summary>
    public long? Chunk { get; }

    /// <summary>The file offset of the damaged part (a chunk's frame, the header at 0, or the trailer).</summary>
    public long? Offset { get; }

    /// <summary>For <see cref="BackupFailure.ChainBroken"/>: the first bad log position.</summary>
    public long? Position { get; }
}
