namespace DaprGame.Combat.Domain.Snapshots;

/// <summary>
/// The snapshot wire format, shared by the writer and <see cref="SnapshotView"/>:
/// <code>
/// byte   kind: 0xD1 full | 0xD2 delta
/// varint tick; [delta] varint baseline tick
/// varint the reader's own entity (0: none); varint last processed input sequence
/// varint removal count, then each removed entity id (delta only)
/// varint record count, then records: varint id, byte field mask, then the fields the mask names:
///        kind (byte), team (zigzag), x, y (zigzag; absolute when whole, else the change since the baseline), health (varint)
/// </code>
/// A whole record (<see cref="Whole"/> set) carries every field: an entity entering the reader's interest, or any
/// entity of a full snapshot. Positions are quantised to sixteenths of a world unit.
/// </summary>
internal static class SnapshotFormat
{
    public const byte Full = 0xD1;
    public const byte Delta = 0xD2;

    public const byte KindField = 1;
    public const byte TeamField = 2;
    public const byte XField = 4;
    public const byte YField = 8;
    public const byte HealthField = 16;
    public const byte Whole = 0x80;
    public const byte AllFields = KindField | TeamField | XField | YField | HealthField;

    /// <summary>Q16.16 → sixteenths of a unit.</summary>
    public const int QuantizeShift = 12;

    /// <summary>Upper bound on one record's size: id (5) + mask (1) + kind (1) + team (5) + x, y (5 each) + health (5).</summary>
    public const int MaxRecordBytes = 27;

    public const int MaxHeaderBytes = 1 + 5 * 4;
}
