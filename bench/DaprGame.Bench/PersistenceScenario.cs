extern alias persistence;

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DaprGame.Contracts;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using DaprGame.Testing;
using DaprGame.Testing.Servers;
using Microsoft.Extensions.Logging;

namespace DaprGame.Bench;

/// <summary>
/// Scenario <c>persistence</c>: the persistence service's ingest on each component profile, against the profile's own
/// store written directly, and the cost of rebuilding the views.
/// <para>
/// Per profile — <c>local</c> (SQLite state, in-memory pub/sub), <c>redis</c> (Redis state, Redis Streams pub/sub) and
/// <c>postgres</c> (PostgreSQL state, Redis Streams pub/sub, as <c>components/postgres</c> has it) — the real service
/// runs in-process with its sidecar (<see cref="LocalCluster"/>), and a publisher with its own sidecar bulk-publishes
/// four event kinds over 64 streams (<see cref="PersistenceIngest"/>). A closed loop measures events/s appended and
/// visible in the views; an open loop at half that rate measures publish → visible latency (the service's own lag:
/// the event's <c>occurredAt</c> → folded into the views). Interleaved with the closed-loop runs, the same store takes
/// batched writes of ~500-byte rows directly (<see cref="PersistenceRawStores"/>): service events/s ÷ raw rows/s is
/// the figure the issue targets (≥ 0.25).
/// </para>
/// <para>
/// Then the domain alone: 1,000,000 synthetic records appended through <c>EventLog</c> and a full
/// <see cref="ViewSet.Rebuild"/> of them, timed on one thread with its allocations.
/// </para>
/// <c>--filter</c> picks <c>local</c>, <c>redis</c>, <c>postgres</c> or <c>rebuild</c>; <c>--rate</c> and
/// <c>--workers</c> are not used (the open loop runs at half the measured saturation; one publisher per event kind).
/// </summary>
internal static class PersistenceScenario
{
    private const int RebuildEvents = 1_000_000;
    private const int Seed = 20261130;
    private const double RatioTarget = 0.25;

    public static async Task<BenchReport> RunAsync(BenchOptions options)
    {
        var report = new BenchReport("persistence", options);
        report.Notes.Add($"load average at start: {LoadAverage()}");
        foreach (var profile in new[] { ClusterProfile.Local, ClusterProfile.Redis, ClusterProfile.Postgres })
        {
            var name = profile.ToString().ToLowerInvariant();
            if (!options.Includes(name))
            {
                continue;
            }
            try
            {
                await RunProfileAsync(report, options, profile, name);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException)
            {
                report.Notes.Add($"{name}: not measured: {e.Message}");
                Console.Error.WriteLine($"[persistence] {name}: not measured: {e}");
            }
        }
        if (options.Includes("rebuild"))
        {
            Rebuild(report, options);
        }
        report.Notes.Add($"load average at the end: {LoadAverage()}");
        return report;
    }

    private static async Task RunProfileAsync(BenchReport report, BenchOptions options, ClusterProfile profile, string name)
    {
        RedisServer? redis = null;
        PostgresServer? postgres = null;
        var folder = Directory.CreateTempSubdirectory("daprgame-bench-persistence-").FullName;
        try
        {
            if (profile is ClusterProfile.Redis or ClusterProfile.Postgres)
            {
                redis = new RedisServer();
                await redis.InitializeAsync();
            }
            if (profile is ClusterProfile.Postgres)
            {
                postgres = new PostgresServer();
                await postgres.InitializeAsync();
            }
            Console.Error.WriteLine($"[persistence] {name}: starting the service and a publisher, each with its sidecar…");
            await using var cluster = await LocalCluster.StartAsync(profile,
            [
                new ClusterApp(AppIds.Persistence, (args, configure) => persistence::DaprGame.Persistence.PersistenceApp.Build(args, configure), 1,
                    b => b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning)),
            ], redis?.Host, postgres?.ConnectionString);
            await using var publisher = await TestSidecar.StartAsync("bench-publisher", cluster.Resources, environment: cluster.Environment);
            using var ingest = new PersistenceIngest(publisher.Client, cluster.Node(AppIds.Persistence).AppAddress);
            var ready = await ingest.WaitReadyAsync(TimeSpan.FromSeconds(60));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[persistence] {name}: ready (recovered in {ready.RecoveredInMs:0} ms); warm-up…"));

            // Warm-up: JIT, connection pools, the subscriptions' first deliveries.
            var warm = await ingest.ClosedLoopAsync(TimeSpan.FromSeconds(Math.Min(5, options.Duration.TotalSeconds)));
            Console.Error.WriteLine($"[persistence] {name}: warm-up: {warm.Summary()}");

            var closed = new List<IngestRun>();
            var raw = new List<double>();
            for (var run = 0; run < options.Runs; run++)
            {
                // The bench's own status calls wait server-side for a position: not part of an event's path.
                using (var hops = new HopTimer(path => path.StartsWith("/v1/admin/", StringComparison.Ordinal) ? null
                    : path.Replace("/dapr.proto.runtime.v1.Dapr/", "grpc ", StringComparison.Ordinal)))
                {
                    closed.Add(await ingest.ClosedLoopAsync(options.Duration));
                    Console.Error.WriteLine($"[persistence] {name}: closed loop run {run + 1}: {closed[^1].Summary()}");
                    if (run == options.Runs - 1)
                    {
                        report.Notes.Add($"{name}: where the time goes in the last closed-loop run (inclusive call times; calls per event × mean): {hops.Report(closed[^1].Visible, "event", 8, closed[^1].Seconds)}");
                        Console.Error.WriteLine($"[persistence] {report.Notes[^1]}");
                    }
                }
                var rawDuration = TimeSpan.FromSeconds(Math.Min(5, options.Duration.TotalSeconds));
                raw.Add(profile switch
                {
                    ClusterProfile.Local => await PersistenceRawStores.SqliteRowsPerSecondAsync(folder, rawDuration),
                    ClusterProfile.Redis => await PersistenceRawStores.RedisRowsPerSecondAsync(redis!.Host, rawDuration),
                    _ => await PersistenceRawStores.PostgresRowsPerSecondAsync(Npgsql(postgres!), rawDuration),
                });
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[persistence] {name}: raw store run {run + 1}: {raw[^1]:N0} rows/s"));
            }

            var saturated = Median(closed.Select(r => r.EventsPerSecond));
            var rate = Math.Max(10, (int)(saturated / 2));
            var open = new List<IngestRun>();
            for (var run = 0; run < options.Runs; run++)
            {
                open.Add(await ingest.OpenLoopAsync(rate, options.Duration));
                Console.Error.WriteLine($"[persistence] {name}: open loop {rate}/s run {run + 1}: {open[^1].Summary()}");
            }

            var timed = Stopwatch.GetTimestamp();
            var final = await ingest.StatusAsync();
            var statusMs = Stopwatch.GetElapsedTime(timed).TotalMilliseconds;

            var closedRow = BenchReport.Median("ingest: publish → visible", name, $"closed ≤{PersistenceIngest.Window}", [.. closed.Select(r => r.ToLoadResult())]);
            var openRow = BenchReport.Median("ingest: publish → visible", name, $"{rate}/s", [.. open.Select(r => r.ToLoadResult())]);
            var rawRuns = raw.Select(r => new LoadResult(r, new LatencySummary(0, double.NaN, double.NaN, double.NaN), 0, 0)).ToList();
            var rawRow = BenchReport.Median($"raw store: {RawWhat(profile)}", name, $"{PersistenceRawStores.RowsPerBatch} rows/batch", rawRuns);
            report.Rows.AddRange([closedRow, openRow, rawRow]);

            var ratio = closedRow.Throughput / rawRow.Throughput;
            report.Comparisons.Add(new BenchComparison($"{name}: service events/s ÷ raw rows/s", ratio, "ratio", $">= {RatioTarget:0.00}", ratio >= RatioTarget));
            report.Comparisons.Add(new BenchComparison($"{name}: publish → visible p50 at {rate}/s (open loop)", openRow.P50Ms, "ms", "", null));
            report.Comparisons.Add(new BenchComparison($"{name}: publish → visible p99 at {rate}/s (open loop)", openRow.P99Ms, "ms", "", null));
            report.Comparisons.Add(new BenchComparison($"{name}: records per state transaction (closed loop)", Median(closed.Select(r => r.RecordsPerTransaction)), "rec/tx", "", null));
            report.Comparisons.Add(new BenchComparison($"{name}: records per state transaction (open loop)", Median(open.Select(r => r.RecordsPerTransaction)), "rec/tx", "", null));
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name}: closed loop, medians: {Median(closed.Select(r => r.Transactions / r.Seconds)):0} state transactions/s; {Median(closed.Select(r => r.Cpu.Process)):P0} of the cores in this process (service, both sidecars, publisher), " +
                $"{Median(closed.Select(r => r.Cpu.Servers)):P0} in its store servers, machine {Median(closed.Select(r => r.Cpu.Machine)):P0}; held for gaps {closed.Sum(r => r.Held)}, duplicates {closed.Sum(r => r.Duplicates)}, " +
                $"publish failures {closed.Sum(r => r.PublishFailures)}, runs not drained {closed.Count(r => !r.Drained)}"));
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name}: open loop at {rate}/s, medians: lag max {Median(open.Select(r => r.Lag.MaxMs)):0} ms; CPU process {Median(open.Select(r => r.Cpu.Process)):P0}, servers {Median(open.Select(r => r.Cpu.Servers)):P0}, machine {Median(open.Select(r => r.Cpu.Machine)):P0}; " +
                $"held for gaps {open.Sum(r => r.Held)}, runs not drained {open.Count(r => !r.Drained)}"));
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name}: at the end the log held {final.Position:N0} records (snapshot at {final.SnapshotWatermark:N0}); one status call took {statusMs:0.0} ms (it hashes every view)"));
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }
            if (redis is not null)
            {
                await redis.DisposeAsync();
            }
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void Rebuild(BenchReport report, BenchOptions options)
    {
        Console.Error.WriteLine($"[persistence] rebuild: appending {RebuildEvents:N0} synthetic records through EventLog…");
        var built = Stopwatch.GetTimestamp();
        var records = PersistenceEvents.SyntheticLog(RebuildEvents, Seed);
        var buildSeconds = Stopwatch.GetElapsedTime(built).TotalSeconds;
        var bytes = records.Sum(r => (long)r.Data.Length);
        var runs = new List<LoadResult>();
        var elapsed = new List<double>();
        long skipped = 0;
        var pauses = new List<string>();
        ViewSet? last = null;
        for (var run = 0; run < options.Runs; run++)
        {
            // The previous run's views (about as large as the log) go before the collection that starts this run.
            last = null;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var paused = GC.GetTotalPauseDuration();
            var gen2 = GC.CollectionCount(2);
            var started = Stopwatch.GetTimestamp();
            var views = ViewSet.Rebuild(records);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            var pause = (GC.GetTotalPauseDuration() - paused).TotalMilliseconds;
            gen2 = GC.CollectionCount(2) - gen2;
            skipped = views.Skipped;
            last = views;
            elapsed.Add(seconds * 1000);
            pauses.Add(string.Create(CultureInfo.InvariantCulture, $"{pause:0} ms ({gen2} gen2)"));
            runs.Add(new LoadResult(records.Count / seconds, new LatencySummary(0, double.NaN, double.NaN, double.NaN), 0, allocated / records.Count));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[persistence] rebuild run {run + 1}: {seconds * 1000:0} ms ({records.Count / seconds:N0} events/s), {allocated / (double)records.Count:0} B allocated per event, GC pauses {pause:0} ms ({gen2} gen2), watermark {views.Watermark:N0}, skipped {views.Skipped}"));
        }
        if (last is not null)
        {
            // What the status route and every periodic snapshot do under the writer's lock, at this size.
            var hashed = Stopwatch.GetTimestamp();
            last.ContentHash();
            var hashMs = Stopwatch.GetElapsedTime(hashed).TotalMilliseconds;
            var snapped = Stopwatch.GetTimestamp();
            last.Snapshot();
            var snapshotMs = Stopwatch.GetElapsedTime(snapped).TotalMilliseconds;
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"rebuild: with the views of {records.Count:N0} records, ViewSet.ContentHash() takes {hashMs:0} ms and ViewSet.Snapshot() {snapshotMs:0} ms (the service's status route and each periodic snapshot run them under the writer's lock)"));
            Console.Error.WriteLine($"[persistence] {report.Notes[^1]}");
            // Free them before the breakdown builds its own.
            last = null;
        }
        report.Notes.Add($"rebuild: GC pauses during the timed rebuilds: {string.Join(" / ", pauses)}");
        report.Notes.Add("rebuild: where the time goes (one pass each, same records): " + RebuildBreakdown(records));
        Console.Error.WriteLine($"[persistence] {report.Notes[^1]}");
        var row = BenchReport.Median($"views rebuild ({RebuildEvents / 1_000_000} M records)", "domain", "1 thread", runs);
        report.Rows.Add(row);
        var perMillion = Median(elapsed) * 1_000_000 / records.Count;
        report.Comparisons.Add(new BenchComparison("views rebuild: time per million events", perMillion, "ms", "", null));
        report.Comparisons.Add(new BenchComparison("views rebuild: allocated per event", row.AllocatedBytesPerOp, "B", "", null));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"rebuild: {records.Count:N0} records (40 % chat posts, 30 % wallet changes, 20 % fills, 10 % match results; data {bytes / (double)records.Count:0} B on average) appended through EventLog in {buildSeconds:0.0} s; " +
            $"rebuild runs {string.Join(" / ", elapsed.Select(e => e.ToString("0", CultureInfo.InvariantCulture)))} ms; records the views skipped as malformed: {skipped}"));
    }

    /// <summary>
    /// The rebuild's parts timed apart: the live set (rollback-aware positions), parsing every record's data, and each
    /// view folding the records it handles into a fresh instance (parse included, as <see cref="ViewSet"/> does it).
    /// </summary>
    private static string RebuildBreakdown(IReadOnlyList<LogRecord> records)
    {
        var parts = new List<string>();
        var started = Stopwatch.GetTimestamp();
        var live = LiveSet.At(records, records.Count);
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"live set {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms ({live.Count:N0} positions)"));
        started = Stopwatch.GetTimestamp();
        foreach (var record in records)
        {
            using var document = JsonDocument.Parse(record.Data);
        }
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"parse every record {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms"));
        foreach (var view in new ViewSet().Views)
        {
            var folded = 0;
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            started = Stopwatch.GetTimestamp();
            foreach (var record in records)
            {
                if (view.Handles(record.Type))
                {
                    using var document = JsonDocument.Parse(record.Data);
                    view.Apply(record, document.RootElement);
                    folded++;
                }
            }
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            parts.Add(string.Create(CultureInfo.InvariantCulture,
                $"{view.Name} {ms:0} ms for {folded:N0} records ({ms * 1000 / Math.Max(1, folded):0.0} µs, {allocated / (double)Math.Max(1, folded):0} B each)"));
        }
        return string.Join("; ", parts);
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";

    private static string RawWhat(ClusterProfile profile) => profile switch
    {
        ClusterProfile.Local => "SQLite WAL inserts, 1 tx",
        ClusterProfile.Redis => "pipelined HSET",
        _ => "PostgreSQL multi-row INSERT, 1 tx",
    };

    /// <summary>The server's libpq-style connection string as Npgsql takes it.</summary>
    private static string Npgsql(PostgresServer server) => $"Host=127.0.0.1;Port={server.Port};Username=postgres;Database=postgres";

    private static double Median(IEnumerable<double> values)
    {
        var s = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
