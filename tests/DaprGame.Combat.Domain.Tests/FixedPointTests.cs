using DaprGame.Combat.Domain.Ecs;
using DaprGame.Combat.Domain.FixedPoint;

namespace DaprGame.Combat.Domain.Tests;

public sealed class FixedPointTests
{
    [Fact]
    public void Arithmetic_is_exact_in_sixteen_fraction_bits()
    {
        var a = Fix.FromInt(3) + Fix.Ratio(1, 2);
        var b = Fix.FromInt(-2);

        Assert.Equal(Fix.FromInt(-7), a * b);
        Assert.Equal(new Fix(-(7 << 15) / 2), a / b);
        Assert.Equal(Fix.FromInt(1) + Fix.Ratio(1, 2), a + b);
        Assert.True(b < a && a > b && Fix.Abs(b) == Fix.FromInt(2));
        Assert.Equal(21845, Fix.Ratio(1, 3).Raw);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(10_000)]
    [InlineData(32_000)]
    public void Sqrt_is_the_root_rounded_down_to_the_last_fraction_bit(int value)
    {
        var root = Fix.Sqrt(Fix.FromInt(value));
        var next = new Fix(root.Raw + 1);

        Assert.True((long)root.Raw * root.Raw <= (long)value << 32, $"{root}² > {value}");
        Assert.True((long)next.Raw * next.Raw > (long)value << 32, $"{next}² <= {value}");
        Assert.Equal((int)Math.Sqrt(value), root.Floor);
    }

    [Fact]
    public void Integer_square_root_is_the_floor_for_every_size()
    {
        var random = new Random(5);
        for (var i = 0; i < 10_000; i++)
        {
            var value = (ulong)random.NextInt64() >> random.Next(0, 63);
            var root = IntegerMath.Sqrt(value);
            Assert.True(root * root <= value, $"{root}² > {value}");
            Assert.True((root + 1) * (root + 1) > value || root == uint.MaxValue, $"{root + 1}² <= {value}");
        }
    }

    [Fact]
    public void Normalising_a_direction_gives_length_1000_within_rounding_and_keeps_its_signs()
    {
        var random = new Random(9);
        for (var i = 0; i < 10_000; i++)
        {
            int x = random.Next(-32768, 32768), y = random.Next(-32768, 32768);
            if (x == 0 && y == 0)
            {
                continue;
            }
            var (nx, ny) = IntegerMath.Normalize(x, y, 1000);
            var length = Math.Sqrt((double)nx * nx + (double)ny * ny);
            Assert.InRange(length, 998.5, 1000);
            Assert.Equal(Math.Sign(x), nx == 0 ? Math.Sign(x) : Math.Sign(nx));
            Assert.Equal(Math.Sign(y), ny == 0 ? Math.Sign(y) : Math.Sign(ny));
        }
        Assert.Equal((0, 0), IntegerMath.Normalize(0, 0, 1000));
        Assert.Equal((600, 800), IntegerMath.ClampLength(600, 800, 1000));
        Assert.Equal((600, 800), IntegerMath.ClampLength(1200, 1600, 1000));
    }

    [Fact]
    public void The_random_generator_is_a_fixed_sequence_for_a_seed()
    {
        var a = new DeterministicRandom(42);
        var b = new DeterministicRandom(42);
        var c = new DeterministicRandom(43);
        var first = a.NextUInt64();

        Assert.Equal(first, b.NextUInt64());
        Assert.NotEqual(first, c.NextUInt64());
        // Pinned: a change to the generator would silently change every recorded match.
        Assert.Equal(0x15780B2E0C2EC716UL, first);
    }

    [Fact]
    public void Bounded_draws_stay_in_range_and_cover_it()
    {
        var random = new DeterministicRandom(1);
        var seen = new int[7];
        for (var i = 0; i < 70_000; i++)
        {
            seen[random.Next(7)]++;
        }
        Assert.All(seen, n => Assert.InRange(n, 9_000, 11_000));
        for (var i = 0; i < 1_000; i++)
        {
            Assert.InRange(random.Range(-5, 5), -5, 5);
        }
    }

    [Fact]
    public void A_recycled_entity_slot_gets_a_new_generation_so_the_old_id_is_dead()
    {
        var registry = new EntityRegistry();
        var first = registry.Create();
        var second = registry.Create();
        registry.Destroy(first);
        var third = registry.Create();

        Assert.Equal(EntityRegistry.SlotOf(first), EntityRegistry.SlotOf(third));
        Assert.NotEqual(first, third);
        Assert.False(registry.IsAlive(first));
        Assert.True(registry.IsAlive(second) && registry.IsAlive(third));
    }

    [Fact]
    public void A_component_store_keeps_the_others_when_one_is_removed_and_ignores_stale_ids()
    {
        var registry = new EntityRegistry();
        var store = new ComponentStore<int>();
        var ids = Enumerable.Range(0, 100).Select(_ => registry.Create()).ToList();
        foreach (var id in ids)
        {
            store.Add(id, id * 10);
        }
        store.Remove(ids[3]);
        registry.Destroy(ids[3]);
        var reused = registry.Create();

        Assert.False(store.Has(ids[3]));
        Assert.False(store.Has(reused));
        Assert.Equal(99, store.Count);
        Assert.All(ids.Where((_, i) => i != 3), id => Assert.Equal(id * 10, store.Get(id)));
    }
}
