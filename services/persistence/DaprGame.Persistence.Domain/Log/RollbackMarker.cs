using System.Text.Json;

namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// A rollback to position <see cref="ToPosition"/>, appended as a record of kind <see cref="RecordKind.Rollback"/>
/// (stream <see cref="StreamId"/>, <c>sequence</c> = the target, data = who/why as JSON). It edits nothing: the records
/// after the target stay in the log and are reported as rolled back by <see cref="LiveSet"/>.
/// <para>Meaning: "from here on, the state is what it was at <see cref="ToPosition"/>". The state at a position counts
/// the rollbacks before it, so a second rollback to a point inside an earlier rolled-back range brings back what was
/// live at that point — views always equal a replay of the history as it stood at the target, plus what follows the marker.</para>
/// </summary>
public sealed record RollbackMarker(long ToPosition, string By, string Reason, DateTimeOffset At)
{
    public const string StreamId = "$rollback";

    public const string EventType = "persistence.rollback.v1";

    public static RollbackMarker FromRecord(LogRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Kind != RecordKind.Rollback)
        {
            throw new ArgumentException($"record {record.Position} is not a rollback marker", nameof(record));
        }
        using var doc = JsonDocument.Parse(record.Data);
        var root = doc.RootElement;
        return new RollbackMarker(record.Sequence, root.GetProperty("by").GetString()!, root.GetProperty("reason").GetString()!, record.OccurredAt);
    }

    internal byte[] ToData()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("toPosition", ToPosition);
            writer.WriteString("by", By);
            writer.WriteString("reason", Reason);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
