using System.Buffers;
using System.Diagnostics;

namespace DaprGame.Combat.Domain.Tests;

public sealed class SnapshotViewTests
{
    [Fact]
    public void Garbage_and_mutated_snapshots_are_refused_with_InvalidDataException_and_leave_the_view_unchanged()
    {
        var (baselines, samples) = RecordSnapshots();
        var random = new Random(1234);
        var stopwatch = Stopwatch.StartNew();
        var refused = 0;
        for (var i = 0; i < 5000; i++)
        {
            var view = new SnapshotView();
            foreach (var b in baselines)
            {
                view.Apply(b);
            }
            var (tick, entities) = (view.Tick, view.Entities.OrderBy(e => e.Key).ToList());
            var bytes = Mutate(samples[random.Next(samples.Count)], random);
            try
            {
                view.Apply(bytes);
            }
            catch (InvalidDataException)
            {
                refused++;
                Assert.Equal(tick, view.Tick);
                Assert.Equal(entities, view.Entities.OrderBy(e => e.Key));
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name} on {Convert.ToHexString(bytes)}: {e.Message}");
            }
        }

        Assert.True(refused > 3000, $"only {refused} of 5000 refused");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public void A_delta_against_a_baseline_the_view_does_not_have_is_refused()
    {
        var (_, samples) = RecordSnapshots();
        var delta = samples.First(s => s[0] == 0xD2);

        var error = Assert.Throws<InvalidDataException>(() => new SnapshotView().Apply(delta));
        Assert.Contains("does not have", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => new SnapshotView().Apply([]));
    }

    /// <summary>A few full snapshots (the baselines a client holds) and deltas against them, from a real match.</summary>
    private static (List<byte[]> Baselines, List<byte[]> Samples) RecordSnapshots()
    {
        var driver = new MatchDriver(new MatchSetup("deathmatch", "plaza", 20, 6, Bots: 80), 6, new SimulationOptions { InterestRadius = 60 });
        var player = driver.Join();
        driver.Join();
        var buffer = new ArrayBufferWriter<byte>();
        var baselines = new List<byte[]>();
        var samples = new List<byte[]>();
        for (var i = 0; i < 60; i++)
        {
            driver.Tick(churn: false);
            buffer.ResetWrittenCount();
            driver.Sim.WriteSnapshot(player, i % 10 == 0 ? 0 : driver.Sim.Tick - 1 - (i % 10), buffer);
            (i % 10 == 0 ? baselines : samples).Add(buffer.WrittenSpan.ToArray());
        }
        samples.AddRange(baselines);
        return (baselines, samples);
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        switch (random.Next(6))
        {
            case 0:
                var noise = new byte[random.Next(0, 64)];
                random.NextBytes(noise);
                return noise;
            case 1:
                return original[..random.Next(original.Length)];
            case 2:
                return [.. original, .. Enumerable.Range(0, random.Next(1, 8)).Select(_ => (byte)random.Next(256))];
            case 3:
                var spliced = original.ToList();
                spliced.InsertRange(random.Next(spliced.Count), Enumerable.Range(0, random.Next(1, 4)).Select(_ => (byte)random.Next(256)));
                return [.. spliced];
            default:
                var flipped = (byte[])original.Clone();
                for (var n = random.Next(1, 4); n > 0; n--)
                {
                    flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                }
                return flipped;
        }
    }
}
