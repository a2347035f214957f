using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Bench;

/// <summary>
/// Scenario <c>combat-sim</c>: the combat simulation on one thread, no host. Three parts:
/// <list type="number">
/// <item>Tick cost at 10, 100 and 1,000 entities with 10 scripted players (moving, firing the rifle whenever it is
/// ready, rockets now and then): <c>Step</c> alone, and <c>Step</c> plus a snapshot for every player (delta against
/// the tick before, interest radius 48). The baseline in the same run is <c>Step</c> plus a full snapshot of every
/// entity per player (no delta, no filter).</item>
/// <item>Bytes per client per tick and per second for both, and their ratio.</item>
/// <item>An arena of 2,000 wandering bots on the 512 × 512 map: the time to build snapshots for 250, 500 and 1,000
/// viewers (each stands at a bot) per tick, and bytes per viewer per second at 20 ticks/s, against full
/// snapshots of all 2,000 entities for the same viewers.</item>
/// </list>
/// </summary>
internal static class CombatSimScenario
{
    private const int TickRate = 20;
    private const int Players = 10;

    public static Task<BenchReport> RunAsync(BenchOptions options)
    {
        var report = new BenchReport("combat-sim", options);
        foreach (var entities in new[] { 10, 100, 1000 })
        {
            if (options.Includes($"{entities} entities"))
            {
                TickCost(report, options, entities);
            }
        }
        foreach (var viewers in new[] { 250, 500, 1000 })
        {
            if (options.Includes($"arena {viewers}"))
            {
                Arena(report, options, viewers);
            }
        }
        report.Notes.Add("times are per tick on one thread; ops/s is 1 / mean tick time; B/op is managed allocation per tick on that thread after warm-up, " +
            "including kills' occurrences and the replay log's and hash list's amortised growth; a quiet tick has neither");
        report.Notes.Add("players: one input per tick each (random move, rifle whenever ready, rocket 1 tick in 40), snapshots acknowledged every tick");
        return Task.FromResult(report);
    }

    private static void TickCost(BenchReport report, BenchOptions options, int entities)
    {
        var stepRuns = new List<LoadResult>();
        var deltaRuns = new List<LoadResult>();
        var fullRuns = new List<LoadResult>();
        var deltaBytes = new List<double>();
        var fullBytes = new List<double>();
        var quiet = new List<double>();
        var eventful = new List<double>();
        var map = entities <= 100 ? "plaza" : "field";
        var ticks = Math.Max(200, (int)(options.Duration.TotalSeconds * 200));
        for (var run = 0; run < options.Runs; run++)
        {
            var sim = (Match)MatchSimulations.Create(new MatchSetup("deathmatch", map, TickRate, (ulong)(run + 1), Players, Bots: entities - Players));
            var players = new ScriptedPlayers(sim, Players, run);
            var buffer = new ArrayBufferWriter<byte>(1 << 20);
            var step = new LatencyRecorder();
            var delta = new LatencyRecorder();
            var full = new LatencyRecorder();
            long stepAllocated = 0, snapshotAllocated = 0, deltaTotal = 0, fullTotal = 0, quietAllocated = 0, quietTicks = 0;
            double stepSum = 0, deltaSum = 0, fullSum = 0;
            for (var t = -300; t < ticks; t++)
            {
                players.Submit();
                var reserved = sim.ReservedCapacity;
                var a0 = GC.GetAllocatedBytesForCurrentThread();
                var t0 = Stopwatch.GetTimestamp();
                var events = sim.Step().Occurrences.Count;
                var t1 = Stopwatch.GetTimestamp();
                var a1 = GC.GetAllocatedBytesForCurrentThread();
                long written = 0;
                foreach (var id in players.Ids)
                {
                    buffer.ResetWrittenCount();
                    written += sim.WriteSnapshot(id, sim.Tick - 1, buffer);
                }
                var t2 = Stopwatch.GetTimestamp();
                var a2 = GC.GetAllocatedBytesForCurrentThread();
                long fullWritten = 0;
                foreach (var entity in players.Entities)
                {
                    buffer.ResetWrittenCount();
                    fullWritten += sim.WriteSnapshotFrom(entity, 0, buffer, unfiltered: true);
                }
                var t3 = Stopwatch.GetTimestamp();
                if (t < 0)
                {
                    continue;
                }
                stepAllocated += a1 - a0;
                snapshotAllocated += a2 - a1;
                if (events == 0 && sim.ReservedCapacity == reserved)
                {
                    quietAllocated += a2 - a0;
                    quietTicks++;
                }
                deltaTotal += written;
                fullTotal += fullWritten;
                step.Record(t0, t1);
                delta.Record(t0, t2);
                full.Record(t0, t1 + (t3 - t2));
                stepSum += t1 - t0;
                deltaSum += t2 - t0;
                fullSum += t1 - t0 + (t3 - t2);
            }
            stepRuns.Add(new LoadResult(ticks * Stopwatch.Frequency / stepSum, step.Summarize(), 0, stepAllocated / ticks));
            deltaRuns.Add(new LoadResult(ticks * Stopwatch.Frequency / deltaSum, delta.Summarize(), 0, (stepAllocated + snapshotAllocated) / ticks));
            fullRuns.Add(new LoadResult(ticks * Stopwatch.Frequency / fullSum, full.Summarize(), 0, 0));
            deltaBytes.Add((double)deltaTotal / ticks / Players);
            quiet.Add(quietTicks == 0 ? 0 : (double)quietAllocated / quietTicks);
            eventful.Add(1 - (double)quietTicks / ticks);
            fullBytes.Add((double)fullTotal / ticks / Players);
        }
        var mode = $"{entities} ent, {map}";
        var stepRow = BenchReport.Median($"tick: Step ({entities} entities)", "sim", mode, stepRuns);
        var deltaRow = BenchReport.Median($"tick: Step + {Players} delta snapshots", "delta", mode, deltaRuns);
        var fullRow = BenchReport.Median($"tick: Step + {Players} full snapshots", "full", mode, fullRuns);
        report.Rows.Add(stepRow);
        report.Rows.Add(deltaRow);
        report.Rows.Add(fullRow);
        var d = Median(deltaBytes);
        var f = Median(fullBytes);
        if (entities == 1000)
        {
            report.Comparisons.Add(new BenchComparison("1000 entities: p99 Step + snapshots", deltaRow.P99Ms, "ms", "<= 1", deltaRow.P99Ms <= 1));
        }
        report.Comparisons.Add(new BenchComparison($"{entities} entities: allocated per quiet tick", Median(quiet), "B", "0", Median(quiet) == 0));
        report.Comparisons.Add(new BenchComparison($"{entities} entities: ticks with events or log growth", Median(eventful), "share", "", null));
        report.Comparisons.Add(new BenchComparison($"{entities} entities: bytes/client/tick delta+interest", d, "B", "", null));
        report.Comparisons.Add(new BenchComparison($"{entities} entities: bytes/client/tick full, no filter", f, "B", "", null));
        report.Comparisons.Add(new BenchComparison($"{entities} entities: bytes/client/s delta+interest", d * TickRate, "B/s", "", null));
        report.Comparisons.Add(new BenchComparison($"{entities} entities: delta / full bytes", d / f, "ratio", "<= 0.2", d / f <= 0.2));
    }

    private static void Arena(BenchReport report, BenchOptions options, int viewers)
    {
        const int Bots = 2000;
        var deltaRuns = new List<LoadResult>();
        var fullRuns = new List<LoadResult>();
        var stepRuns = new List<LoadResult>();
        var deltaBytes = new List<double>();
        var fullBytes = new List<double>();
        var ticks = Math.Max(40, (int)(options.Duration.TotalSeconds * 20));
        const int FullTicks = 5;
        for (var run = 0; run < options.Runs; run++)
        {
            var sim = (Match)MatchSimulations.Create(new MatchSetup("deathmatch", "field", TickRate, (ulong)(run + 7), 1, Bots: Bots));
            var eyes = sim.BotEntities.Take(viewers).ToArray();
            var buffer = new ArrayBufferWriter<byte>(1 << 22);
            var step = new LatencyRecorder();
            var delta = new LatencyRecorder();
            var full = new LatencyRecorder();
            long deltaTotal = 0, fullTotal = 0, allocated = 0;
            double deltaSum = 0, fullSum = 0, stepSum = 0;
            for (var t = -40; t < ticks + FullTicks; t++)
            {
                var t0 = Stopwatch.GetTimestamp();
                sim.Step();
                var t1 = Stopwatch.GetTimestamp();
                var a0 = GC.GetAllocatedBytesForCurrentThread();
                long written = 0;
                var unfiltered = t >= ticks;
                foreach (var eye in eyes)
                {
                    buffer.ResetWrittenCount();
                    written += unfiltered ? sim.WriteSnapshotFrom(eye, 0, buffer, unfiltered: true) : sim.WriteSnapshotFrom(eye, sim.Tick - 1, buffer);
                }
                var t2 = Stopwatch.GetTimestamp();
                if (t < 0)
                {
                    continue;
                }
                if (unfiltered)
                {
                    full.Record(t1, t2);
                    fullSum += t2 - t1;
                    fullTotal += written;
                    continue;
                }
                allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
                step.Record(t0, t1);
                stepSum += t1 - t0;
                delta.Record(t1, t2);
                deltaSum += t2 - t1;
                deltaTotal += written;
            }
            stepRuns.Add(new LoadResult(ticks * Stopwatch.Frequency / stepSum, step.Summarize(), 0, 0));
            deltaRuns.Add(new LoadResult(ticks * Stopwatch.Frequency / deltaSum, delta.Summarize(), 0, allocated / ticks));
            fullRuns.Add(new LoadResult(FullTicks * Stopwatch.Frequency / fullSum, full.Summarize(), 0, 0));
            deltaBytes.Add((double)deltaTotal / ticks / viewers * TickRate);
            fullBytes.Add((double)fullTotal / FullTicks / viewers * TickRate);
        }
        var mode = $"{Bots} bots, {viewers} cl";
        var stepRow = BenchReport.Median($"arena {viewers}: Step", "sim", mode, stepRuns);
        var deltaRow = BenchReport.Median($"arena {viewers}: build snapshots", "delta", mode, deltaRuns);
        var fullRow = BenchReport.Median($"arena {viewers}: build full snapshots", "full", mode, fullRuns);
        report.Rows.Add(stepRow);
        report.Rows.Add(deltaRow);
        report.Rows.Add(fullRow);
        var d = Median(deltaBytes);
        var f = Median(fullBytes);
        report.Comparisons.Add(new BenchComparison($"arena {viewers}: p99 Step + snapshots", stepRow.P99Ms + deltaRow.P99Ms, "ms", "<= 50", stepRow.P99Ms + deltaRow.P99Ms <= 50));
        report.Comparisons.Add(new BenchComparison($"arena {viewers}: bytes/client/s delta+interest", d, "B/s", "<= 30000", d <= 30_000));
        report.Comparisons.Add(new BenchComparison($"arena {viewers}: bytes/client/s full, all 2000", f, "B/s", "", null));
        report.Comparisons.Add(new BenchComparison($"arena {viewers}: full / delta build time", fullRow.P50Ms / deltaRow.P50Ms, "ratio", "", null));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Ten players who always send a valid input: the anti-cheat gate accepts everything they do.</summary>
    private sealed class ScriptedPlayers
    {
        private readonly Match _sim;
        private readonly Random _random;
        private readonly int[] _fireReady;
        private readonly int[] _rocketReady;
        private uint _sequence;

        public ScriptedPlayers(Match sim, int count, int seed)
        {
            _sim = sim;
            _random = new Random(seed);
            Ids = [.. Enumerable.Range(0, count).Select(i => "player-" + i.ToString(CultureInfo.InvariantCulture))];
            Entities = [.. Ids.Select(id => sim.Join(id, 0))];
            _fireReady = new int[count];
            _rocketReady = new int[count];
        }

        public string[] Ids { get; }

        public int[] Entities { get; }

        public void Submit()
        {
            _sequence++;
            var next = _sim.Tick + 1;
            for (var p = 0; p < Ids.Length; p++)
            {
                var buttons = InputButtons.None;
                if (_fireReady[p] <= next)
                {
                    buttons |= InputButtons.Fire;
                    _fireReady[p] = next + _sim.Rules.RifleCooldown;
                }
                if (_rocketReady[p] <= next && _random.Next(40) == 0)
                {
                    buttons |= InputButtons.Ability1;
                    _rocketReady[p] = next + _sim.Rules.RocketCooldown;
                }
                _sim.Submit(Ids[p], new PlayerInput
                {
                    Sequence = _sequence,
                    Tick = next,
                    ViewTick = Math.Max(0, next - 3),
                    Entity = Entities[p],
                    MoveX = (short)_random.Next(-700, 701),
                    MoveY = (short)_random.Next(-700, 701),
                    AimX = (short)_random.Next(1, 1000),
                    AimY = (short)_random.Next(-999, 1000),
                    Buttons = buttons,
                });
            }
        }
    }
}
