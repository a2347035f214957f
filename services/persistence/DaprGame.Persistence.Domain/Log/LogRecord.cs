namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// One entry of the global log. <see cref="Position"/> is 1, 2, … without gaps; <see cref="StreamVersion"/> is
/// 1, 2, … per stream in append order (whatever the event's own <see cref="Sequence"/> said, see
/// <see cref="Flags"/>). <see cref="Hash"/> is SHA-256 over the canonical encoding of every other field including
/// <see cref="PreviousHash"/> (<see cref="RecordHash"/>), so editing any stored record breaks the chain from there.
/// Records are never edited once written, rollback included.
/// </summary>
public sealed record LogRecord(
    long Position,
    RecordKind Kind,
    string StreamId,
    long StreamVersion,
    long Sequence,
    RecordFlags Flags,
    string EventId,
    string Type,
    DateTimeOffset OccurredAt,
    byte[] Data,
    byte[] PreviousHash,
    byte[] Hash);
