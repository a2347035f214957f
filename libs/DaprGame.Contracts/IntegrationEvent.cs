namespace DaprGame.Contracts;

/// <summary>
/// What every integration event carries. Events are past-tense records, published as the data of a CloudEvent
/// whose <c>type</c> is the event's <c>EventType</c> constant. Fields are only ever added (golden files in
/// <c>tests/DaprGame.Contracts.Tests</c> catch any other change); consumers ignore unknown fields and deduplicate on
/// <see cref="Id"/>, because delivery is at-least-once.
/// </summary>
public abstract record IntegrationEvent
{
    /// <summary>Unique per event occurrence; a redelivered event has the same id.</summary>
    public required string Id { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The stream the event belongs to, for example <c>chat/room-lobby</c>.</summary>
    public required string StreamId { get; init; }

    /// <summary>Position within <see cref="StreamId"/>; grows by one per event of that stream.</summary>
    public required long Sequence { get; init; }
}
