using System.Runtime.CompilerServices;

namespace DaprGame.Combat.Domain.Ecs;

/// <summary>
/// A sparse set of one component type: components packed densely (systems iterate <see cref="Dense"/> in index
/// order, which is deterministic because adds and removes are), and a sparse slot → dense index map.
/// Removal swaps the last component into the hole.
/// </summary>
internal sealed class ComponentStore<T>
    where T : struct
{
    private T[] _dense = new T[64];
    private int[] _entities = new int[64];
    private int[] _sparse = new int[256];

    public int Count { get; private set; }

    /// <summary>The packed components; only the first <see cref="Count"/> are live.</summary>
    public Span<T> Dense => _dense.AsSpan(0, Count);

    /// <summary>The entity of each packed component, in the same order.</summary>
    public ReadOnlySpan<int> Entities => _entities.AsSpan(0, Count);

    public bool Has(int entity)
    {
        var slot = entity & EntityRegistry.SlotMask;
        if (slot >= _sparse.Length)
        {
            return false;
        }
        var index = _sparse[slot] - 1;
        return index >= 0 && _entities[index] == entity;
    }

    public ref T Get(int entity)
    {
        var index = IndexOf(entity);
        if (index < 0)
        {
            throw new KeyNotFoundException($"entity {entity} has no {typeof(T).Name}");
        }
        return ref _dense[index];
    }

    /// <summary>A reference to the entity's component, or a null reference when it has none (check with <see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>).</summary>
    public ref T TryGet(int entity)
    {
        var index = IndexOf(entity);
        return ref index < 0 ? ref Unsafe.NullRef<T>() : ref _dense[index];
    }

    public ref T Add(int entity, in T component)
    {
        var slot = entity & EntityRegistry.SlotMask;
        if (slot >= _sparse.Length)
        {
            Array.Resize(ref _sparse, Math.Max(slot + 1, _sparse.Length * 2));
        }
        if (Count == _dense.Length)
        {
            Array.Resize(ref _dense, _dense.Length * 2);
            Array.Resize(ref _entities, _entities.Length * 2);
        }
        _dense[Count] = component;
        _entities[Count] = entity;
        _sparse[slot] = ++Count;
        return ref _dense[Count - 1];
    }

    public void Remove(int entity)
    {
        var index = IndexOf(entity);
        if (index < 0)
        {
            return;
        }
        var last = Count - 1;
        _dense[index] = _dense[last];
        _entities[index] = _entities[last];
        _sparse[_entities[index] & EntityRegistry.SlotMask] = index + 1;
        _sparse[entity & EntityRegistry.SlotMask] = 0;
        _dense[last] = default;
        Count = last;
    }

    private int IndexOf(int entity)
    {
        var slot = entity & EntityRegistry.SlotMask;
        if (slot >= _sparse.Length)
        {
            return -1;
        }
        var index = _sparse[slot] - 1;
        return index >= 0 && _entities[index] == entity ? index : -1;
    }
}
