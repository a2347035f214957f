using System.Diagnostics;

namespace DaprGame.Combat.Domain.Tests;

public sealed class DeterminismTests
{
    private static readonly string[] MapNames = ["arena", "plaza", "field"];

    internal static MatchDriver RecordMatch(int seed, int ticks = 300)
    {
        var random = new Random(seed);
        var setup = new MatchSetup(
            Mode: random.Next(2) == 0 ? "deathmatch" : "team",
            Map: MapNames[random.Next(MapNames.Length)],
            TickRate: random.Next(2) == 0 ? 20 : 30,
            Seed: (ulong)random.NextInt64(),
            MaxPlayers: 8,
            Bots: random.Next(0, 40));
        var driver = new MatchDriver(setup, seed);
        for (var i = 0; i < 1 + random.Next(4); i++)
        {
            driver.Join(1 + (i % 2));
        }
        driver.Run(ticks);
        return driver;
    }

    [Fact]
    public void A_hundred_recorded_matches_replay_to_the_same_hash_at_every_tick()
    {
        var kills = 0;
        var churned = 0;
        for (var seed = 1; seed <= 100; seed++)
        {
            var driver = RecordMatch(seed);
            var report = Replays.Verify(driver.Sim.Log, driver.Sim.TickHashes);

            Assert.True(report.Mismatches == 0, $"match {seed}: {report.Mismatches} mismatches, first at tick {report.FirstMismatchTick}");
            Assert.Equal(driver.Sim.Tick, report.Ticks);
            Assert.Equal(driver.Sim.StateHash, report.FinalHash);
            kills += driver.Occurrences.OfType<PlayerKilled>().Count();
            churned += driver.Match.Result().Players.Count > 4 ? 1 : 0;
        }
        // The matches exercise combat and churn, or agreeing would prove little.
        Assert.True(kills > 100, $"{kills} kills over 100 matches");
        Assert.True(churned > 20, $"{churned} matches had players join mid-match");
    }

    [Fact]
    public void A_replay_that_diverges_is_reported_at_the_first_differing_tick()
    {
        var driver = RecordMatch(7, ticks: 120);
        var expected = driver.Sim.TickHashes.ToArray();
        expected[50] ^= 1;

        var report = Replays.Verify(driver.Sim.Log, expected);

        Assert.Equal(1, report.Mismatches);
        Assert.Equal(51, report.FirstMismatchTick);
    }

    [Fact]
    public void Two_matches_with_the_same_setup_and_inputs_have_the_same_hashes_and_a_different_seed_does_not()
    {
        var a = RecordMatch(11, ticks: 150);
        var b = RecordMatch(11, ticks: 150);
        var c = new MatchDriver(a.Sim.Setup with { Seed = a.Sim.Setup.Seed + 1 }, 11);
        c.Join(1);
        c.Run(150);

        Assert.Equal(a.Sim.TickHashes, b.Sim.TickHashes);
        Assert.NotEqual(a.Sim.TickHashes[^1], c.Sim.TickHashes[^1]);
    }

    [Fact]
    public void A_log_written_to_bytes_replays_from_the_bytes_alone()
    {
        var driver = RecordMatch(23);
        var path = Path.Combine(Path.GetTempPath(), $"combat-log-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, driver.Sim.Log);
        try
        {
            var bytes = File.ReadAllBytes(path);
            var report = Replays.Verify(bytes);

            Assert.Equal(driver.Sim.TickHashes, report.Hashes);
            Assert.Equal(driver.Sim.StateHash, report.FinalHash);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_log_replays_to_the_same_hashes_in_another_process()
    {
        var folder = Directory.CreateTempSubdirectory("combat-replay-");
        try
        {
            var expected = new List<string>();
            for (var seed = 31; seed < 34; seed++)
            {
                var driver = RecordMatch(seed, ticks: 200);
                var log = Path.Combine(folder.FullName, $"{seed}.log");
                await File.WriteAllBytesAsync(log, driver.Sim.Log, TestContext.Current.CancellationToken);
                expected.Add($"{log} {driver.Sim.Tick} {driver.Sim.StateHash:x16} {HashOfHashes(driver.Sim.TickHashes):x16}");
            }

            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(typeof(DeterminismTests).Assembly.Location);
            start.ArgumentList.Add(ReplayEntryPoint.Flag);
            foreach (var seed in new[] { 31, 32, 33 })
            {
                start.ArgumentList.Add(Path.Combine(folder.FullName, $"{seed}.log"));
            }
            using var child = Process.Start(start)!;
            var output = child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var errors = child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(2));
            await child.WaitForExitAsync(timeout.Token);

            Assert.True(child.Id != Environment.ProcessId);
            Assert.True(child.ExitCode == 0, $"replay process exited with {child.ExitCode}: {await errors}");
            Assert.Equal(expected, (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    internal static ulong HashOfHashes(IReadOnlyList<ulong> hashes)
    {
        var h = 14695981039346656037UL;
        foreach (var x in hashes)
        {
            h = (h ^ x) * 1099511628211UL;
        }
        return h;
    }
}
