using System.Text.Json;

namespace DaprGame.Contracts.Persistence;

/// <summary>
/// One logged event republished on <see cref="Topics.Replay"/> on request, so a service can rebuild from the log. The
/// original event is <see cref="Data"/> (exactly its logged data) with its own <see cref="OriginalId"/> and
/// <see cref="OriginalType"/>; <see cref="IntegrationEvent.StreamId"/> and <see cref="IntegrationEvent.Sequence"/> are
/// the original's stream and its version in the log. <see cref="IntegrationEvent.Id"/> is
/// <c>{replayId}:{position}</c>, so each replay is a fresh event while a redelivery of one is not.
/// </summary>
public sealed record PersistenceEventReplayed : IntegrationEvent
{
    public const string EventType = "persistence.event.replayed.v1";

    public required string ReplayId { get; init; }

    public required long Position { get; init; }

    public required string OriginalId { get; init; }

    public required string OriginalType { get; init; }

    public required bool RolledBack { get; init; }

    public required JsonElement Data { get; init; }

    /// <summary>Value equality, <see cref="Data"/> compared as JSON (a <see cref="JsonElement"/> alone compares by reference).</summary>
    public bool Equals(PersistenceEventReplayed? other) =>
        other is not null && base.Equals(other) && ReplayId == other.ReplayId && Position == other.Position && OriginalId == other.OriginalId
        && OriginalType == other.OriginalType && RolledBack == other.RolledBack && JsonElement.DeepEquals(Data, other.Data);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), ReplayId, Position, OriginalId, OriginalType, RolledBack);
}
