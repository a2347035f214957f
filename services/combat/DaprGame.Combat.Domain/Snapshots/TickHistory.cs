using System.Numerics;
using DaprGame.Combat.Domain.Ecs;
using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Combat.Domain.Snapshots;

/// <summary>An entity at the end of one tick: what snapshots send and what lag compensation rewinds to.</summary>
internal struct EntityState
{
    public int Id;
    public EntityKind Kind;
    public int Team;
    public int X;
    public int Y;
    public int Health;

    public readonly int QuantizedX => X >> SnapshotFormat.QuantizeShift;

    public readonly int QuantizedY => Y >> SnapshotFormat.QuantizeShift;
}

/// <summary>
/// Every entity at the end of one tick, with a spatial hash grid over them (cells of the interest radius, so a
/// radius query reads at most 3 × 3 cells) and which entity each player controlled.
/// </summary>
internal sealed class Frame
{
    public int Tick = -1;
    public int Count;
    public EntityState[] States = new EntityState[64];
    public int[] IndexBySlot = new int[256];
    public int[] CellHead = [];
    public int[] Next = new int[64];
    public int PlayerCount;
    public int[] PlayerEntities = new int[64];
    public int[] PlayerTeams = new int[64];

    /// <summary>The index of <paramref name="entity"/> in <see cref="States"/>, or −1 when it did not exist at this tick.</summary>
    public int IndexOf(int entity)
    {
        var slot = entity & EntityRegistry.SlotMask;
        if (slot >= IndexBySlot.Length)
        {
            return -1;
        }
        var index = IndexBySlot[slot] - 1;
        return index >= 0 && index < Count && States[index].Id == entity ? index : -1;
    }
}

/// <summary>
/// A ring of the last <see cref="Capacity"/> frames: the baselines a delta snapshot can refer to, and the past
/// positions a hitscan shot is checked against. Frames are reused, so recording allocates only while the match
/// grows.
/// </summary>
internal sealed class TickHistory
{
    public const int Capacity = 64;

    private readonly Frame[] _frames = new Frame[Capacity];

    public TickHistory(int width, int height, int cellSize)
    {
        CellSize = cellSize;
        CellsX = (width + cellSize - 1) / cellSize;
        CellsY = (height + cellSize - 1) / cellSize;
        for (var i = 0; i < Capacity; i++)
        {
            _frames[i] = new Frame { CellHead = new int[CellsX * CellsY] };
        }
    }

    public int CellSize { get; }

    public int CellsX { get; }

    public int CellsY { get; }

    public Frame? Get(int tick)
    {
        if (tick < 0)
        {
            return null;
        }
        var frame = _frames[tick % Capacity];
        return frame.Tick == tick ? frame : null;
    }

    public Frame Record(int tick, ComponentStore<Body> bodies, List<PlayerSlot> players, int slotCapacity)
    {
        var frame = _frames[tick % Capacity];
        frame.Tick = tick;
        var count = bodies.Count;
        // Sixty-four frames each grow on their own; sizing them with headroom keeps a count that wobbles around a
        // boundary (rockets coming and going) from reallocating one frame after another.
        if (frame.States.Length < count)
        {
            var size = (int)BitOperations.RoundUpToPowerOf2((uint)(count + count / 4));
            frame.States = new EntityState[size];
            frame.Next = new int[size];
        }
        if (frame.IndexBySlot.Length < slotCapacity)
        {
            frame.IndexBySlot = new int[(int)BitOperations.RoundUpToPowerOf2((uint)(slotCapacity + slotCapacity / 4))];
        }
        Array.Fill(frame.CellHead, -1);
        var dense = bodies.Dense;
        var entities = bodies.Entities;
        for (var i = 0; i < count; i++)
        {
            ref readonly var body = ref dense[i];
            var id = entities[i];
            frame.States[i] = new EntityState { Id = id, Kind = body.Kind, Team = body.Team, X = body.X.Raw, Y = body.Y.Raw, Health = body.Health };
            frame.IndexBySlot[id & EntityRegistry.SlotMask] = i + 1;
            var cell = CellOf(body.X.Floor, body.Y.Floor);
            frame.Next[i] = frame.CellHead[cell];
            frame.CellHead[cell] = i;
        }
        frame.Count = count;
        if (frame.PlayerEntities.Length < players.Count)
        {
            frame.PlayerEntities = new int[players.Count * 2];
            frame.PlayerTeams = new int[players.Count * 2];
        }
        frame.PlayerCount = players.Count;
        for (var p = 0; p < players.Count; p++)
        {
            var player = players[p];
            frame.PlayerEntities[p] = player.Active && bodies.Has(player.Entity) ? player.Entity : 0;
            frame.PlayerTeams[p] = player.Team;
        }
        return frame;
    }

    public int CellOf(int x, int y)
    {
        var cx = Math.Clamp(x / CellSize, 0, CellsX - 1);
        var cy = Math.Clamp(y / CellSize, 0, CellsY - 1);
        return cy * CellsX + cx;
    }
}
