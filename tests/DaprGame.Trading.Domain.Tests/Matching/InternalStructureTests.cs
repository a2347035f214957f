using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.Tests.Matching;

/// <summary>The book's id map and price ladders against the BCL collections they replace, on seeded random operations.</summary>
public sealed class InternalStructureTests
{
    [Fact]
    public void The_id_map_agrees_with_a_dictionary_through_growth_collisions_and_deletions()
    {
        var random = new Random(3);
        var map = new OrderIdMap(0);
        var expected = new Dictionary<long, int>();
        var keys = new List<long>();
        for (var i = 0; i < 200_000; i++)
        {
            // Sequential ids, clustered ids and arbitrary longs, including 0 and negatives.
            var key = random.Next(3) switch
            {
                0 => i,
                1 => (long)random.Next(64) << 40,
                _ => random.NextInt64(long.MinValue, long.MaxValue),
            };
            if (random.Next(3) > 0 && !expected.ContainsKey(key))
            {
                map.Add(key, i);
                expected[key] = i;
                keys.Add(key);
            }
            else if (keys.Count > 0)
            {
                var at = random.Next(keys.Count);
                var victim = keys[at];
                keys[at] = keys[^1];
                keys.RemoveAt(keys.Count - 1);
                map.Remove(victim);
                expected.Remove(victim);
                Assert.Equal(-1, map.Get(victim));
            }
            if (i % 1_000 == 0)
            {
                Assert.Equal(expected.Count, map.Count);
                foreach (var (k, v) in expected)
                {
                    Assert.Equal(v, map.Get(k));
                }
            }
        }
    }

    [Fact]
    public void A_ladder_keeps_keys_sorted_with_the_best_last()
    {
        var random = new Random(4);
        var ladder = new PriceLadder(0);
        var expected = new SortedDictionary<long, int>();
        for (var i = 0; i < 50_000; i++)
        {
            // Mostly near the best (the end), sometimes far from it.
            var key = random.Next(4) == 0 ? random.Next(0, 10_000) : 9_900 + random.Next(0, 120);
            var index = ladder.Search(key);
            if (index >= 0)
            {
                Assert.Equal(expected[key], ladder.LevelAt(index));
                if (random.Next(2) == 0)
                {
                    ladder.RemoveAt(index);
                    expected.Remove(key);
                }
            }
            else
            {
                Assert.False(expected.ContainsKey(key));
                ladder.InsertAt(~index, key, i);
                expected[key] = i;
            }
            if (random.Next(50) == 0 && ladder.Count > 0)
            {
                expected.Remove(ladder.BestKey);
                ladder.RemoveBest();
            }
            if (i % 500 == 0)
            {
                Assert.Equal(expected.Keys, Enumerable.Range(0, ladder.Count).Select(ladder.KeyAt));
                Assert.Equal(expected.Values.Reverse(), Enumerable.Range(0, ladder.Count).Select(ladder.LevelByRank));
            }
        }
    }
}
