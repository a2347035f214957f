using System.Buffers;
using DaprGame.Combat.Domain.Ecs;

namespace DaprGame.Combat.Domain.Snapshots;

/// <summary>
/// Encodes what one player may see at one tick, full or as a delta against a frame still in the history. All
/// scratch space (the visible lists, slot stamps, the byte buffer) belongs to the writer and is reused, so writing
/// a snapshot allocates nothing once the buffers have grown to the match's size (the bench's <c>combat-sim</c>
/// scenario measures 0 B per snapshot, and about 4.5 µs per delta for a viewer among 2,000 moving entities, 7 µs on a loaded machine).
/// </summary>
internal sealed class SnapshotWriter(TickHistory history, int interestRadius)
{
    private readonly long _radiusSquared = (long)interestRadius * interestRadius << (2 * FixedPoint.Fix.FractionBits);
    private readonly int _radiusRaw = interestRadius << FixedPoint.Fix.FractionBits;

    private byte[] _buffer = new byte[4096];
    private int[] _current = new int[256];
    private int[] _baseline = new int[256];
    private int[] _seen = new int[256];
    private int[] _inBaseline = new int[256];
    private int[] _baselineIndex = new int[256];
    private int[] _inCurrent = new int[256];
    private int _stamp;

    /// <summary>Writes what <paramref name="player"/> sees and returns the snapshot's length.</summary>
    public int Write(Frame frame, Frame? baseline, int player, uint lastSequence, IBufferWriter<byte> output)
    {
        var own = player < frame.PlayerCount ? frame.PlayerEntities[player] : 0;
        var team = player < frame.PlayerCount ? frame.PlayerTeams[player] : 0;
        var baseOwn = baseline is not null && player < baseline.PlayerCount ? baseline.PlayerEntities[player] : 0;
        var baseTeam = baseline is not null && player < baseline.PlayerCount ? baseline.PlayerTeams[player] : 0;
        return Write(frame, own, team, baseline, baseOwn, baseTeam, lastSequence, output);
    }

    /// <summary>Writes what a viewer at entity <paramref name="own"/> on <paramref name="team"/> sees (at each of the two ticks).</summary>
    public int Write(Frame frame, int own, int team, Frame? baseline, int baselineOwn, int baselineTeam, uint lastSequence, IBufferWriter<byte> output)
    {
        var currentCount = Collect(frame, own, team, ref _current);
        var baselineCount = baseline is null ? 0 : Collect(baseline, baselineOwn, baselineTeam, ref _baseline);
        var capacity = SnapshotFormat.MaxHeaderBytes + 5 + (currentCount + baselineCount) * SnapshotFormat.MaxRecordBytes;
        if (_buffer.Length < capacity)
        {
            _buffer = new byte[Math.Max(capacity, _buffer.Length * 2)];
        }
        var b = _buffer.AsSpan();
        var p = 0;
        b[p++] = baseline is null ? SnapshotFormat.Full : SnapshotFormat.Delta;
        p = Varint.Write(b, p, (uint)frame.Tick);
        if (baseline is not null)
        {
            p = Varint.Write(b, p, (uint)baseline.Tick);
        }
        p = Varint.Write(b, p, (uint)own);
        p = Varint.Write(b, p, lastSequence);
        p = baseline is null ? WriteFull(b, p, frame, currentCount) : WriteDelta(b, p, frame, currentCount, baseline, baselineCount);
        output.Write(b[..p]);
        return p;
    }

    private int WriteFull(Span<byte> b, int p, Frame frame, int count)
    {
        p = Varint.Write(b, p, 0);
        p = Varint.Write(b, p, (uint)count);
        for (var i = 0; i < count; i++)
        {
            p = WriteWhole(b, p, in frame.States[_current[i]]);
        }
        return p;
    }

    private int WriteDelta(Span<byte> b, int p, Frame frame, int currentCount, Frame baseline, int baselineCount)
    {
        var inBaseline = ++_stamp;
        for (var i = 0; i < baselineCount; i++)
        {
            var slot = baseline.States[_baseline[i]].Id & EntityRegistry.SlotMask;
            _inBaseline[slot] = inBaseline;
            _baselineIndex[slot] = _baseline[i];
        }
        var inCurrent = ++_stamp;
        for (var i = 0; i < currentCount; i++)
        {
            _inCurrent[frame.States[_current[i]].Id & EntityRegistry.SlotMask] = inCurrent;
        }

        // Removals first: entities the reader had at the baseline that it no longer sees (or whose slot now holds
        // another entity). The count goes in front, so it is written after the loop into a reserved byte or more.
        var countAt = p;
        var removals = 0;
        p += 5;
        for (var i = 0; i < baselineCount; i++)
        {
            ref readonly var old = ref baseline.States[_baseline[i]];
            var slot = old.Id & EntityRegistry.SlotMask;
            if (_inCurrent[slot] != inCurrent || frame.States[frame.IndexBySlot[slot] - 1].Id != old.Id)
            {
                p = Varint.Write(b, p, (uint)old.Id);
                removals++;
            }
        }
        p = CloseCount(b, countAt, p, removals);

        countAt = p;
        var records = 0;
        p += 5;
        for (var i = 0; i < currentCount; i++)
        {
            ref readonly var now = ref frame.States[_current[i]];
            var slot = now.Id & EntityRegistry.SlotMask;
            if (_inBaseline[slot] == inBaseline && baseline.States[_baselineIndex[slot]].Id == now.Id)
            {
                ref readonly var old = ref baseline.States[_baselineIndex[slot]];
                byte mask = 0;
                if (now.Team != old.Team)
                {
                    mask |= SnapshotFormat.TeamField;
                }
                var dx = now.QuantizedX - old.QuantizedX;
                var dy = now.QuantizedY - old.QuantizedY;
                if (dx != 0)
                {
                    mask |= SnapshotFormat.XField;
                }
                if (dy != 0)
                {
                    mask |= SnapshotFormat.YField;
                }
                if (now.Health != old.Health)
                {
                    mask |= SnapshotFormat.HealthField;
                }
                if (mask == 0)
                {
                    continue;
                }
                p = Varint.Write(b, p, (uint)now.Id);
                b[p++] = mask;
                if ((mask & SnapshotFormat.TeamField) != 0)
                {
                    p = Varint.WriteSigned(b, p, now.Team);
                }
                if (dx != 0)
                {
                    p = Varint.WriteSigned(b, p, dx);
                }
                if (dy != 0)
                {
                    p = Varint.WriteSigned(b, p, dy);
                }
                if ((mask & SnapshotFormat.HealthField) != 0)
                {
                    p = Varint.Write(b, p, (uint)now.Health);
                }
            }
            else
            {
                p = WriteWhole(b, p, in now);
            }
            records++;
        }
        return CloseCount(b, countAt, p, records);
    }

    /// <summary>Writes <paramref name="count"/> into the 5 bytes reserved at <paramref name="at"/> and closes the gap behind it.</summary>
    private static int CloseCount(Span<byte> b, int at, int end, int count)
    {
        var length = Varint.Write(b, at, (uint)count) - at;
        if (length < 5)
        {
            b[(at + 5)..end].CopyTo(b[(at + length)..]);
        }
        return end - (5 - length);
    }

    private static int WriteWhole(Span<byte> b, int p, in EntityState s)
    {
        p = Varint.Write(b, p, (uint)s.Id);
        b[p++] = SnapshotFormat.Whole | SnapshotFormat.AllFields;
        b[p++] = (byte)s.Kind;
        p = Varint.WriteSigned(b, p, s.Team);
        p = Varint.WriteSigned(b, p, s.QuantizedX);
        p = Varint.WriteSigned(b, p, s.QuantizedY);
        return Varint.Write(b, p, (uint)s.Health);
    }

    /// <summary>
    /// The indices (into the frame's states) of what a viewer sees: every entity within the interest radius of the
    /// viewer's entity <paramref name="viewer"/>, found through the grid, and every player of its team (not 0)
    /// wherever they are.
    /// </summary>
    public int Collect(Frame frame, int viewer, int team, ref int[] output)
    {
        EnsureSlots(frame);
        if (output.Length < frame.Count)
        {
            output = new int[Math.Max(frame.Count, output.Length * 2)];
        }
        var seen = ++_stamp;
        var count = 0;
        var own = frame.IndexOf(viewer);
        if (own >= 0)
        {
            var px = frame.States[own].X;
            var py = frame.States[own].Y;
            var cell = history.CellSize;
            var x0 = Math.Max(0, ((px - _radiusRaw) >> FixedPoint.Fix.FractionBits) / cell);
            var x1 = Math.Min(history.CellsX - 1, Math.Max(0, (px + _radiusRaw) >> FixedPoint.Fix.FractionBits) / cell);
            var y0 = Math.Max(0, ((py - _radiusRaw) >> FixedPoint.Fix.FractionBits) / cell);
            var y1 = Math.Min(history.CellsY - 1, Math.Max(0, (py + _radiusRaw) >> FixedPoint.Fix.FractionBits) / cell);
            for (var cy = y0; cy <= y1; cy++)
            {
                for (var cx = x0; cx <= x1; cx++)
                {
                    for (var i = frame.CellHead[cy * history.CellsX + cx]; i >= 0; i = frame.Next[i])
                    {
                        long dx = frame.States[i].X - px;
                        long dy = frame.States[i].Y - py;
                        if (dx * dx + dy * dy <= _radiusSquared)
                        {
                            _seen[frame.States[i].Id & EntityRegistry.SlotMask] = seen;
                            output[count++] = i;
                        }
                    }
                }
            }
        }
        if (team != 0)
        {
            for (var other = 0; other < frame.PlayerCount; other++)
            {
                if (frame.PlayerTeams[other] != team)
                {
                    continue;
                }
                var index = frame.IndexOf(frame.PlayerEntities[other]);
                if (index >= 0 && _seen[frame.States[index].Id & EntityRegistry.SlotMask] != seen)
                {
                    _seen[frame.States[index].Id & EntityRegistry.SlotMask] = seen;
                    output[count++] = index;
                }
            }
        }
        return count;
    }

    private void EnsureSlots(Frame frame)
    {
        var slots = frame.IndexBySlot.Length;
        if (_seen.Length < slots)
        {
            _seen = new int[slots];
            _inBaseline = new int[slots];
            _baselineIndex = new int[slots];
            _inCurrent = new int[slots];
        }
    }
}
