using DaprGame.Combat.Domain.Snapshots;

namespace DaprGame.Combat.Domain;

/// <summary>
/// The client side of snapshots: applies full and delta snapshots written by
/// <see cref="IMatchSimulation.WriteSnapshot"/> and exposes what the client sees. It keeps the last
/// <see cref="KeptTicks"/> applied ticks, so a delta may refer to any of them (the client acknowledges ticks; the
/// server deltas against what it acknowledged).
/// </summary>
public sealed class SnapshotView
{
    public const int KeptTicks = 64;

    private readonly Dictionary<int, Dictionary<int, EntityView>> _applied = [];
    private readonly Queue<int> _order = new();
    private Dictionary<int, EntityView> _current = [];

    public int Tick { get; private set; }

    public IReadOnlyDictionary<int, EntityView> Entities => _current;

    /// <summary>The entity the server says this client controls (0 when none).</summary>
    public int OwnEntity { get; private set; }

    /// <summary>The last input sequence the server had processed at this tick, for reconciliation.</summary>
    public uint LastProcessedSequence { get; private set; }

    /// <summary>
    /// Applies one snapshot. On any error the view is unchanged.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed snapshot, or they are a delta against a
    /// tick this view does not have (never applied, or older than the kept ticks; the client should then ask for a full one).</exception>
    public void Apply(ReadOnlySpan<byte> snapshot)
    {
        var reader = new SpanReader(snapshot);
        var kind = reader.ReadByte();
        if (kind is not (SnapshotFormat.Full or SnapshotFormat.Delta))
        {
            throw new InvalidDataException($"unknown snapshot kind 0x{kind:X2}");
        }
        var tick = reader.ReadVarintInt();
        Dictionary<int, EntityView> next;
        if (kind == SnapshotFormat.Delta)
        {
            var baselineTick = reader.ReadVarintInt();
            if (baselineTick > tick)
            {
                throw new InvalidDataException($"delta for tick {tick} against a later tick {baselineTick}");
            }
            if (!_applied.TryGetValue(baselineTick, out var baseline))
            {
                throw new InvalidDataException($"delta snapshot against tick {baselineTick}, which this view does not have");
            }
            next = new Dictionary<int, EntityView>(baseline);
        }
        else
        {
            next = [];
        }
        var own = reader.ReadVarintInt();
        var sequence = reader.ReadVarint();

        var removals = ReadCount(ref reader, 1);
        if (kind == SnapshotFormat.Full && removals != 0)
        {
            throw new InvalidDataException("a full snapshot lists removals");
        }
        for (var i = 0; i < removals; i++)
        {
            var id = reader.ReadVarintInt();
            if (!next.Remove(id))
            {
                throw new InvalidDataException($"removal of entity {id}, which the baseline does not have");
            }
        }

        var records = ReadCount(ref reader, 2);
        var written = new HashSet<int>();
        for (var i = 0; i < records; i++)
        {
            var id = reader.ReadVarintInt();
            if (id == 0 || !written.Add(id))
            {
                throw new InvalidDataException($"entity id {id} is zero or repeated");
            }
            var mask = reader.ReadByte();
            if (mask == (SnapshotFormat.Whole | SnapshotFormat.AllFields))
            {
                var entityKind = (EntityKind)reader.ReadByte();
                if (entityKind is not (EntityKind.Player or EntityKind.Bot or EntityKind.Projectile))
                {
                    throw new InvalidDataException($"unknown entity kind {(byte)entityKind}");
                }
                next[id] = new EntityView(id, entityKind, reader.ReadSigned(), reader.ReadSigned(), reader.ReadSigned(), reader.ReadVarintInt());
                continue;
            }
            if (kind == SnapshotFormat.Full || (mask & ~(SnapshotFormat.TeamField | SnapshotFormat.XField | SnapshotFormat.YField | SnapshotFormat.HealthField)) != 0 || mask == 0)
            {
                throw new InvalidDataException($"field mask 0x{mask:X2} is not valid here");
            }
            if (!next.TryGetValue(id, out var view))
            {
                throw new InvalidDataException($"change to entity {id}, which the baseline does not have");
            }
            if ((mask & SnapshotFormat.TeamField) != 0)
            {
                view = view with { Team = reader.ReadSigned() };
            }
            if ((mask & SnapshotFormat.XField) != 0)
            {
                view = view with { X = Offset(view.X, reader.ReadSigned()) };
            }
            if ((mask & SnapshotFormat.YField) != 0)
            {
                view = view with { Y = Offset(view.Y, reader.ReadSigned()) };
            }
            if ((mask & SnapshotFormat.HealthField) != 0)
            {
                view = view with { Health = reader.ReadVarintInt() };
            }
            next[id] = view;
        }
        if (reader.Remaining != 0)
        {
            throw new InvalidDataException($"{reader.Remaining} bytes after the last record");
        }

        Remember(tick, next);
        _current = next;
        Tick = tick;
        OwnEntity = own;
        LastProcessedSequence = sequence;
    }

    /// <summary>A count, checked against the bytes left (each item takes at least <paramref name="minBytes"/>), so garbage cannot ask for a huge loop.</summary>
    private static int ReadCount(ref SpanReader reader, int minBytes)
    {
        var count = reader.ReadVarintInt();
        return count > reader.Remaining / minBytes ? throw new InvalidDataException($"count {count} exceeds the snapshot's size") : count;
    }

    private static int Offset(int value, int change)
    {
        var sum = (long)value + change;
        return sum is < int.MinValue or > int.MaxValue ? throw new InvalidDataException("a position change overflows") : (int)sum;
    }

    private void Remember(int tick, Dictionary<int, EntityView> view)
    {
        if (_applied.ContainsKey(tick))
        {
            _applied[tick] = view;
            return;
        }
        _applied[tick] = view;
        _order.Enqueue(tick);
        while (_order.Count > KeptTicks)
        {
            _applied.Remove(_order.Dequeue());
        }
    }
}
