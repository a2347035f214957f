namespace DaprGame.Combat.Domain.Ecs;

/// <summary>
/// Hands out entity ids: the low 16 bits are a slot (1–65,535), the bits above it the slot's generation (0 at
/// first, so early ids are small varints in snapshots), bumped each time the slot is freed, so a stale id never names the entity that reused its slot. Freed slots are reused
/// last-in first-out; the free list is simulation state (it decides the next id), so it is hashed.
/// </summary>
internal sealed class EntityRegistry
{
    public const int SlotBits = 16;
    public const int SlotMask = (1 << SlotBits) - 1;
    public const int MaxSlots = SlotMask;

    private int[] _generations = new int[256];
    private int[] _free = new int[256];
    private int _freeCount;
    private int _highestSlot;

    /// <summary>One past the highest slot ever used: arrays indexed by slot need this many entries.</summary>
    public int SlotCapacity => _highestSlot + 1;

    public int AliveCount { get; private set; }

    public static int SlotOf(int entity) => entity & SlotMask;

    public int Create()
    {
        int slot;
        if (_freeCount > 0)
        {
            slot = _free[--_freeCount];
        }
        else
        {
            if (_highestSlot == MaxSlots)
            {
                throw new InvalidOperationException("the match has no free entity slot left");
            }
            slot = ++_highestSlot;
            if (slot >= _generations.Length)
            {
                Array.Resize(ref _generations, _generations.Length * 2);
                Array.Resize(ref _free, _free.Length * 2);
            }
        }
        AliveCount++;
        return (_generations[slot] << SlotBits) | slot;
    }

    public bool IsAlive(int entity)
    {
        var slot = entity & SlotMask;
        return entity > 0 && slot != 0 && slot <= _highestSlot && (_generations[slot] << SlotBits | slot) == entity && !IsFree(slot);
    }

    public void Destroy(int entity)
    {
        var slot = entity & SlotMask;
        // Generations wrap within 15 bits so ids stay positive ints.
        _generations[slot] = (_generations[slot] + 1) & 0x7FFF;
        _free[_freeCount++] = slot;
        AliveCount--;
    }

    public void AddToHash(ref FixedPoint.StateHasher hasher)
    {
        hasher.Add(_highestSlot);
        hasher.Add(_freeCount);
        for (var i = 0; i < _freeCount; i++)
        {
            hasher.Add(_free[i]);
        }
        for (var slot = 1; slot <= _highestSlot; slot++)
        {
            hasher.Add(_generations[slot]);
        }
    }

    private bool IsFree(int slot)
    {
        for (var i = 0; i < _freeCount; i++)
        {
            if (_free[i] == slot)
            {
                return true;
            }
        }
        return false;
    }
}
