namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// One event as the host received it from a topic: the CloudEvent's id and type, and the event's own
/// <c>streamId</c>/<c>sequence</c>/<c>occurredAt</c> read from its data. <see cref="Data"/> is the data JSON exactly as
/// delivered: it is hashed byte for byte, so the host must not re-serialise it (a redelivery with different bytes would
/// be reported as a conflict).
/// </summary>
public sealed record IncomingEvent(
    string EventId,
    string Type,
    string StreamId,
    long Sequence,
    DateTimeOffset OccurredAt,
    byte[] Data);
