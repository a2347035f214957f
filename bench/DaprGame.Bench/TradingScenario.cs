using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DaprGame.Contracts;
using DaprGame.Contracts.Trading;
using DaprGame.Hosting;
using DaprGame.Testing;
using DaprGame.Trading.Domain.Matching;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace DaprGame.Bench;

/// <summary>
/// Scenario <c>trading</c>: orders end to end — client → gateway (HTTP, token) → its sidecar → trading's sidecar →
/// trading → the <c>OrderBook</c> actor (intent saved, the player's <c>Wallet</c> holds, the engine matches, the book
/// saved with its outbox, one <c>Settlement</c> started per fill, events published) → answer; each settlement then runs
/// on its reminder (four wallet calls, a save after each) and ends with <c>trading.settlement.completed.v1</c>, which an
/// observer app receives through its own sidecar. The gateway, trading and the observer run in-process on the
/// <c>local</c> profile (SQLite state, shared in-memory broker), with the load client.
/// <para>
/// <see cref="Players"/> guests, minted GOLD and items, send a seeded stream of limit orders on one instrument, each
/// priced through the mid (a buy at mid + 0..3, a sell at mid − 0..3), so every order takes whatever rests on the other
/// side and rests only while its own side leads. Open-loop steps at fixed offered rates, stepping up while the path
/// keeps up, then a closed loop. Per step: orders answered/s, fills/s, settlements completed/s; p50/p99 of place →
/// answer (from each order's scheduled start), order → fill (the taker's answer, which carries its fill ids) and fill →
/// settled (the fill's time in the book → the completed event at the observer); process CPU and allocation per order;
/// the book's and wallets' stored size (each save rewrites it whole, so the cost per order grows with it). At the
/// closed loop, where an order's time goes, per HTTP hop. The peer in the same run is the same order stream through the
/// matching engine alone (<see cref="OrderBook"/>, one thread), reported as a ratio: the cost of the path, not a target.
/// </para>
/// </summary>
internal static class TradingScenario
{
    private const int Players = 32;
    private const int Seed = 20261201;
    private const long Mid = 1_000;
    private const string Instrument = "iron-sword-GOLD";
    private const string Currency = "GOLD";
    private const string Item = "iron-sword";
    private const string Admin = "bench_banker";
    private const string ObserverAppId = "bench-observer";

    private const int MaxWorkers = 8;

    // A step counts as kept up with when this share of its offered orders was answered within the step's time.
    private const double KeptUp = 0.95;

    // An open-loop run stops sending once this many seconds of its orders are in flight: the path has fallen
    // behind, and a longer queue in front of the one book actor only runs into the actor-call timeout (5 s), whose
    // failures trip the gateway's circuit breaker for 30 s and spoil the steps after it.
    private const int BacklogSeconds = 2;

    // After a step, settlements of its fills get this long to complete before they count as unsettled.
    private static readonly TimeSpan SettleDrain = TimeSpan.FromSeconds(15);
    private static readonly int[] Rates = [10, 20, 40, 80, 160, 320];

    public static async Task<BenchReport> RunAsync(BenchOptions options)
    {
        var report = new BenchReport("trading", options);
        var stream = new OrderStream(Seed);
        var observer = new SettlementObserver();
        var workers = Math.Min(options.Workers, MaxWorkers);
        Console.Error.WriteLine("[trading] starting gateway, trading and observer with their sidecars…");
        await using var cluster = await LocalCluster.StartAsync(ClusterProfile.Local,
        [
            new ClusterApp(AppIds.Trading, (args, configure) => DaprGame.Trading.TradingApp.Build(args, configure), 1, b =>
            {
                b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Error);
                b.Configuration["Trading:Instruments:0"] = Instrument;
            }),
            new ClusterApp(AppIds.Gateway, (args, configure) => DaprGame.Gateway.GatewayApp.Build(args, configure), 1, b =>
            {
                b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Error);
                b.Configuration["Auth:Pbkdf2Iterations"] = "1000";
                b.Configuration["Auth:Admins"] = Admin;
            }),
            new ClusterApp(ObserverAppId, (args, configure) => observer.Build(args, configure)),
        ]);
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = cluster.Node(AppIds.Gateway).AppAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var database = StateFile(cluster);
        var client = await TradingClient.SetUpAsync(http, stream, observer, database);

        // Warm-up: JIT and tiering (the process burns ~40 % of both cores for its first seconds), connection pools,
        // the actors' first activations; the book's retained history grows towards its steady size.
        Console.Error.WriteLine("[trading] warm-up…");
        var warm = await client.ClosedLoopAsync(workers, 2 * options.Duration);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[trading] warm-up: {warm.Summary()}"));
        report.Notes.Add($"after warm-up ({warm.Accepted} orders): {StateSizes(database)}");

        // The JIT goes on compiling hot methods at higher tiers for a while after the warm-up (at these rates, tens of
        // seconds: thousands of methods across six hosts); the steps start once the idle process is quiet.
        var (idle, settled) = await SettleAsync(TimeSpan.FromSeconds(30));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"after warm-up the idle process took {settled.TotalSeconds:0} s to fall to {idle:P1} CPU of {Environment.ProcessorCount} cores (background JIT)"));
        Console.Error.WriteLine($"[trading] {report.Notes[^1]}");

        var kept = double.NaN;
        foreach (var rate in Rates)
        {
            var name = $"{rate} orders/s";
            if (!options.Includes("open " + name))
            {
                continue;
            }
            var runs = new List<StepResult>();
            for (var run = 0; run < options.Runs; run++)
            {
                runs.Add(await client.OpenLoopAsync(rate, options.Duration));
                Console.Error.WriteLine($"[trading] {name} run {run + 1}: {runs[^1].Summary()}");
            }
            var step = Add(report, name, runs);
            if (step.Answered >= KeptUp * rate && runs.Count(r => r.FellBehind) <= runs.Count / 2)
            {
                kept = double.IsNaN(kept) ? rate : Math.Max(kept, rate);
            }
            else
            {
                report.Notes.Add($"{name} offered: not kept up with (answered < {KeptUp:P0} of offered, or more than {BacklogSeconds} s of orders in flight); higher rates skipped");
                break;
            }
        }

        var saturated = double.NaN;
        var settledAtSaturation = double.NaN;
        if (options.Includes("closed loop (saturate)"))
        {
            var runs = new List<StepResult>();
            using (var hops = new HopTimer(FoldIds))
            {
                for (var run = 0; run < options.Runs; run++)
                {
                    runs.Add(await client.ClosedLoopAsync(workers, options.Duration));
                    Console.Error.WriteLine($"[trading] closed loop x{workers} run {run + 1}: {runs[^1].Summary()}");
                }
                report.Notes.Add("where the time goes at saturation (inclusive HTTP call times, calls per order × mean): " + hops.Report(runs.Sum(r => r.Answered), "order", 14));
            }
            var step = Add(report, $"closed loop x{workers}", runs);
            saturated = step.Answered;
            settledAtSaturation = step.Settled;
        }
        report.Notes.Add($"state at the end: {StateSizes(database)}");

        var engine = double.NaN;
        var engineFillsPerOrder = double.NaN;
        if (options.Includes("engine alone"))
        {
            var engineRuns = new List<LoadResult>();
            for (var run = 0; run < options.Runs; run++)
            {
                var (result, fillsPerOrder) = EnginePeer.Run(stream, TimeSpan.FromSeconds(1));
                engineRuns.Add(result);
                engineFillsPerOrder = fillsPerOrder;
            }
            var row = BenchReport.Median("place order (engine alone)", "engine", "1 thread", engineRuns);
            report.Rows.Add(row);
            engine = row.Throughput;
        }

        report.Comparisons.Add(new BenchComparison("full path: highest offered rate kept up with (open loop)", kept, "ord/s", "", null));
        report.Comparisons.Add(new BenchComparison($"full path: orders answered/s, closed loop x{workers}", saturated, "ord/s", "", null));
        report.Comparisons.Add(new BenchComparison($"full path: settlements completed/s, closed loop x{workers}", settledAtSaturation, "set/s", "", null));
        report.Comparisons.Add(new BenchComparison("engine alone: orders/s (same stream, 1 thread)", engine, "ord/s", "", null));
        report.Comparisons.Add(new BenchComparison("engine alone / full path (closed loop): the cost of the path", engine / saturated, "x", "", null));
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"workload: {Players} players, one book ({Instrument}), seeded limit orders priced through the mid ({Mid} ± 0..3), quantity 1-5; " +
            $"the engine alone makes {engineFillsPerOrder:0.00} fills per order on the same stream"));
        report.Notes.Add("latency: place → answer and order → fill (the taker's answer, which carries its fill ids) from each order's scheduled " +
                         "start (open loop) or its send (closed loop); fill → settled from the fill's time in the book (trading.fill.v1 " +
                         "occurredAt) to the trading.settlement.completed.v1 delivery at an observer app subscribed through its own " +
                         "sidecar (routing rules keep every other trading event in its sidecar)");
        report.Notes.Add("rows: ops/s is orders answered/s (place; B/op is the whole process's allocation per order), fills/s " +
                         "(order → fill) or settlements completed/s (fill → settled; err = not settled within the drain)");
        report.Notes.Add($"closed loop with min(--workers, {MaxWorkers}) workers: one book actor serializes every order, so more only " +
                         "lengthen its queue towards the 5 s actor-call timeout");
        report.Notes.Add("One process holds the gateway, trading, the observer, their sidecars, SQLite and the load client; CPU is that process's.");
        return report;
    }

    /// <summary>Waits (at most <paramref name="limit"/>) until the process uses under 10 % of a core over one second.</summary>
    private static async Task<(double Idle, TimeSpan Waited)> SettleAsync(TimeSpan limit)
    {
        var start = Stopwatch.GetTimestamp();
        double idle;
        do
        {
            var before = Process.GetCurrentProcess().TotalProcessorTime;
            await Task.Delay(TimeSpan.FromSeconds(1));
            idle = (Process.GetCurrentProcess().TotalProcessorTime - before).TotalSeconds / Environment.ProcessorCount;
        }
        while (idle * Environment.ProcessorCount > 0.1 && Stopwatch.GetElapsedTime(start) < limit);
        return (idle, Stopwatch.GetElapsedTime(start));
    }

    /// <summary>Adds one step's three rows (medians over runs) and its notes; returns the medians used for the comparisons.</summary>
    private static (double Answered, double Settled) Add(BenchReport report, string mode, List<StepResult> runs)
    {
        var place = BenchReport.Median("place order → answer", "gateway", mode, [.. runs.Select(r => r.Place)]);
        var fill = BenchReport.Median("order → fill (taker's answer)", "gateway", mode, [.. runs.Select(r => r.Fill)]);
        var settle = BenchReport.Median("fill → settled (completed event)", "saga", mode, [.. runs.Select(r => r.Settle)]);
        report.Rows.Add(place);
        report.Rows.Add(fill);
        report.Rows.Add(settle);
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{mode}: CPU {Median(runs.Select(r => r.Cpu)):P0} of {Environment.ProcessorCount} cores; per run: ")
            + string.Join("; ", runs.Select(r => r.Summary())));
        return (place.Throughput, settle.Throughput);
    }

    /// <summary>Trading's route as the gateway serves it: under <c>/v1/trading</c>, minus trading's own <c>/v1</c>.</summary>
    private static string ThroughGateway(string route) => "/v1/trading" + route["/v1".Length..];

    private static string StateFile(LocalCluster cluster)
    {
        var yaml = cluster.Resources["statestore.yaml"];
        var at = yaml.IndexOf("value: \"", yaml.IndexOf("connectionString", StringComparison.Ordinal), StringComparison.Ordinal) + "value: \"".Length;
        return yaml[at..yaml.IndexOf('"', at)];
    }

    /// <summary>
    /// The whole machine's CPU use from <c>/proc/stat</c> (Linux; NaN elsewhere): what the rest of a shared machine
    /// took while a step ran is the part of it that is not this process's.
    /// </summary>
    private static class MachineCpu
    {
        public static (long Busy, long Total) Read()
        {
            try
            {
                var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                    .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
                var idle = fields[3] + fields[4];
                var total = fields.Take(8).Sum();
                return (total - idle, total);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return (0, 0);
            }
        }

        public static double Since((long Busy, long Total) start)
        {
            var now = Read();
            return now.Total > start.Total ? (now.Busy - start.Busy) / (double)(now.Total - start.Total) : double.NaN;
        }
    }

    /// <summary>The book's stored state and a wallet's on average, in KB: what each of their saves rewrites.</summary>
    private sealed record StateSize(double BookKb, double WalletKb)
    {
        public static StateSize Read(string database)
        {
            try
            {
                using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly");
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = """
                    SELECT (SELECT COALESCE(MAX(LENGTH(value)), 0) FROM state WHERE key LIKE '%||OrderBook||%'),
                           (SELECT COALESCE(AVG(LENGTH(value)), 0) FROM state WHERE key LIKE '%||Wallet||%')
                    """;
                using var reader = command.ExecuteReader();
                reader.Read();
                return new StateSize(reader.GetDouble(0) / 1024, reader.GetDouble(1) / 1024);
            }
            catch (SqliteException)
            {
                return new StateSize(double.NaN, double.NaN);
            }
        }
    }

    /// <summary>What the book, the wallets and the settlements weigh in the store: each save rewrites the whole value.</summary>
    private static string StateSizes(string database)
    {
        try
        {
            using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT CASE WHEN key LIKE '%||OrderBook||%' THEN 'book' WHEN key LIKE '%||Wallet||%' THEN 'wallet'
                            WHEN key LIKE '%||Settlement||%' THEN 'settlement'
                            WHEN key LIKE 'daprgame-reminders||%' THEN 'reminder partitions' ELSE 'other' END AS kind,
                       COUNT(*), AVG(LENGTH(value)), MAX(LENGTH(value))
                FROM state GROUP BY kind ORDER BY kind
                """;
            using var reader = command.ExecuteReader();
            var parts = new List<string>();
            while (reader.Read())
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{reader.GetString(0)} ×{reader.GetInt64(1)} avg {reader.GetDouble(2) / 1024:0.#} KB max {reader.GetInt64(3) / 1024.0:0.#} KB"));
            }
            return string.Join(", ", parts);
        }
        catch (SqliteException e)
        {
            return "state sizes unavailable: " + e.Message;
        }
    }

    internal static double Median(IEnumerable<double> xs)
    {
        var s = xs.Where(x => !double.IsNaN(x)).Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>One order of the seeded stream.</summary>
    internal readonly record struct StreamOrder(int Player, OrderSide Side, long Price, long Quantity);

    /// <summary>
    /// The seeded order stream, generated on demand and kept, so the full path and the engine see the same orders in
    /// the same order (the full path's concurrency may interleave neighbours differently).
    /// </summary>
    internal sealed class OrderStream(int seed)
    {
        private readonly Random _random = new(seed);
        private readonly List<StreamOrder> _orders = [];
        private readonly Lock _gate = new();

        public StreamOrder this[long index]
        {
            get
            {
                lock (_gate)
                {
                    while (_orders.Count <= index)
                    {
                        var side = _random.Next(2) == 0 ? OrderSide.Buy : OrderSide.Sell;
                        var offset = _random.Next(0, 4);
                        _orders.Add(new StreamOrder(_random.Next(Players), side, side == OrderSide.Buy ? Mid + offset : Mid - offset, 1 + _random.Next(5)));
                    }
                    return _orders[(int)index];
                }
            }
        }

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _orders.Count;
                }
            }
        }
    }

    /// <summary>One run of a step: its three latency series with throughputs, and what else was seen.</summary>
    private sealed record StepResult(LoadResult Place, LoadResult Fill, LoadResult Settle, double Cpu, long Offered, long Accepted, long Rejected,
        long Errors, long SelfTradeCancels, int Fills, long Unsettled, long Compensated, long SettledBeforeAnswer, bool FellBehind, StateSize State,
        double OthersCpu, double CpuMsPerOrder)
    {
        public long Answered => Accepted + Rejected;

        public string Summary() => string.Create(CultureInfo.InvariantCulture,
            $"{Place.Throughput:0.0} answered/s ({Answered} of {Offered} sent: {Accepted} accepted, {Rejected} refused, {Errors} errors, " +
            $"{SelfTradeCancels} cancelled by self-trade prevention{(FellBehind ? "; sending stopped, fell behind" : "")}), " +
            $"{Fill.Throughput:0.0} fills/s, {Settle.Throughput:0.0} settled/s, place p50 {Place.Latency.P50Ms:0} / p99 {Place.Latency.P99Ms:0} ms, " +
            $"fill→settled p50 {Settle.Latency.P50Ms:0} / p99 {Settle.Latency.P99Ms:0} ms, {Unsettled} unsettled, {Compensated} compensated, " +
            $"{SettledBeforeAnswer} of {Fills} settled before the taker's answer, CPU {Cpu:P0} ({CpuMsPerOrder:0} ms per order; other processes {OthersCpu:P0}), " +
            $"book state {State.BookKb:0} KB, wallets {State.WalletKb:0} KB");
    }

    /// <summary>The players, their tokens, and the two ways of sending the stream through the gateway.</summary>
    private sealed class TradingClient(HttpClient http, OrderStream stream, SettlementObserver observer, string[] tokens, string database)
    {
        private long _next;

        public static async Task<TradingClient> SetUpAsync(HttpClient http, OrderStream stream, SettlementObserver observer, string database)
        {
            using var register = await http.PostAsJsonAsync("/v1/auth/register", new { username = Admin, password = "bench banker password" });
            register.EnsureSuccessStatusCode();
            var admin = (await register.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
            var tokens = new string[Players];
            await Parallel.ForAsync(0, Players, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                using var guest = await http.PostAsJsonAsync("/v1/auth/guest", new { deviceId = $"bench-trader-{i:D4}" }, ct);
                guest.EnsureSuccessStatusCode();
                var body = await guest.Content.ReadFromJsonAsync<JsonElement>(ct);
                tokens[i] = body.GetProperty("accessToken").GetString()!;
                var player = body.GetProperty("playerId").GetString()!;
                // Enough for every order of a long run: a buy holds at most (mid + 3) × 5.
                var assets = new Assets { Currencies = { [Currency] = 1_000_000_000 }, Stacks = { [Item] = 1_000_000 } };
                using var mint = new HttpRequestMessage(HttpMethod.Post, ThroughGateway(TradingRoutes.AdminMint(player)))
                {
                    Content = JsonContent.Create(new AdminAdjustment($"bench-seed-{i}", assets, "benchmark funds"), options: ServiceDefaults.JsonOptions),
                };
                mint.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
                using var minted = await http.SendAsync(mint, ct);
                if (!minted.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"mint for {player}: {(int)minted.StatusCode} {await minted.Content.ReadAsStringAsync(ct)}");
                }
            });
            return new TradingClient(http, stream, observer, tokens, database);
        }

        /// <summary>
        /// Open loop: order i leaves at start + i / rate whatever happened to the earlier ones, until
        /// <see cref="BacklogSeconds"/> of them are in flight (then the run stops sending and counts as fallen behind).
        /// </summary>
        public async Task<StepResult> OpenLoopAsync(int rate, TimeSpan duration)
        {
            var total = (int)(rate * duration.TotalSeconds);
            var interval = Stopwatch.Frequency / (double)rate;
            var backlog = Math.Max(8, rate * BacklogSeconds);
            var step = new StepState();
            var inflight = new List<Task>(total);
            var sent = 0;
            var start = Stopwatch.GetTimestamp();
            for (; sent < total; sent++)
            {
                var scheduled = start + (long)(sent * interval);
                var wait = scheduled - Stopwatch.GetTimestamp();
                if (wait > Stopwatch.Frequency / 1000)
                {
                    await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                }
                if (Volatile.Read(ref step.InFlight) >= backlog)
                {
                    step.FellBehind = true;
                    break;
                }
                inflight.Add(PlaceAsync(Interlocked.Increment(ref _next) - 1, scheduled, step));
            }
            await Task.WhenAll(inflight);
            return await FinishAsync(step, start, sent);
        }

        /// <summary>Closed loop: each worker sends the stream's next order as soon as its previous one was answered.</summary>
        public async Task<StepResult> ClosedLoopAsync(int workers, TimeSpan duration)
        {
            var step = new StepState();
            var start = Stopwatch.GetTimestamp();
            var until = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            long sent = 0;
            await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < until)
                {
                    Interlocked.Increment(ref sent);
                    await PlaceAsync(Interlocked.Increment(ref _next) - 1, Stopwatch.GetTimestamp(), step);
                }
            })));
            return await FinishAsync(step, start, sent);
        }

        private async Task PlaceAsync(long index, long scheduled, StepState step)
        {
            var order = stream[index];
            using var request = new HttpRequestMessage(HttpMethod.Post, ThroughGateway(TradingRoutes.Orders))
            {
                Content = JsonContent.Create(new PlaceOrder(Instrument, "o" + index.ToString(CultureInfo.InvariantCulture), order.Side, OrderKind.Limit, order.Price, order.Quantity),
                    options: ServiceDefaults.JsonOptions),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[order.Player]);
            Interlocked.Increment(ref step.InFlight);
            try
            {
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsByteArrayAsync();
                var answered = Stopwatch.GetTimestamp();
                step.Answered(answered);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    step.Place.Record(scheduled, answered);
                    Interlocked.Increment(ref step.Accepted);
                    using var json = JsonDocument.Parse(body);
                    var root = json.RootElement;
                    if (root.TryGetProperty("cancelReason", out var reason) && reason.ValueKind == JsonValueKind.String && reason.GetString() == "self_trade")
                    {
                        Interlocked.Increment(ref step.SelfTradeCancels);
                    }
                    var fillIds = root.GetProperty("fillIds");
                    if (fillIds.GetArrayLength() > 0)
                    {
                        step.OrderToFill.Record(scheduled, answered);
                        foreach (var id in fillIds.EnumerateArray())
                        {
                            step.Fills.Add((id.GetString()!, answered));
                        }
                    }
                }
                else if (response.StatusCode == HttpStatusCode.Conflict)
                {
                    step.Place.Record(scheduled, answered);
                    Interlocked.Increment(ref step.Rejected);
                }
                else
                {
                    Interlocked.Increment(ref step.Errors);
                    if (Interlocked.Increment(ref step.ErrorsShown) <= 3)
                    {
                        Console.Error.WriteLine($"[trading] order {index}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref step.Errors);
                if (Interlocked.Increment(ref step.ErrorsShown) <= 3)
                {
                    Console.Error.WriteLine($"[trading] order {index}: {e.GetType().Name} {e.Message}");
                }
            }
            finally
            {
                Interlocked.Decrement(ref step.InFlight);
            }
        }

        /// <summary>Waits for the step's settlements (bounded), then turns what was recorded into the step's figures.</summary>
        private async Task<StepResult> FinishAsync(StepState step, long start, long sent)
        {
            var answeredSeconds = Stopwatch.GetElapsedTime(start, Math.Max(step.LastAnswer, start + 1)).TotalSeconds;
            var allocated = GC.GetTotalAllocatedBytes(precise: false) - step.AllocatedStart;
            var fills = step.Fills.ToArray();
            var deadline = Stopwatch.GetTimestamp() + (long)(SettleDrain.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < deadline && fills.Any(f => !observer.Ended(f.FillId)))
            {
                await Task.Delay(20);
            }
            var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - step.CpuStart).TotalSeconds;
            var cpu = cpuSeconds / wall / Environment.ProcessorCount;
            var machine = MachineCpu.Since(step.MachineStart);

            var settle = new LatencyRecorder();
            long unsettled = 0, compensated = 0, early = 0, lastSettled = start;
            foreach (var (fillId, answered) in fills)
            {
                if (observer.Settled.TryGetValue(fillId, out var end))
                {
                    early += end.Stamp < answered ? 1 : 0;
                    lastSettled = Math.Max(lastSettled, end.Stamp);
                    // The fill's own time in the book, when its event arrived; else the taker's answer (later, so shorter).
                    var from = observer.Filled.TryGetValue(fillId, out var filled) ? end.Stamp - (long)((end.At - filled).TotalSeconds * Stopwatch.Frequency) : answered;
                    settle.Record(Math.Min(from, end.Stamp), end.Stamp);
                }
                else if (observer.Compensated.ContainsKey(fillId))
                {
                    compensated++;
                }
                else
                {
                    unsettled++;
                }
            }
            var settleSeconds = Stopwatch.GetElapsedTime(start, Math.Max(lastSettled, start + 1)).TotalSeconds;
            return new StepResult(
                new LoadResult((step.Accepted + step.Rejected) / answeredSeconds, step.Place.Summarize(), (int)step.Errors, sent == 0 ? 0 : allocated / sent),
                new LoadResult(fills.Length / answeredSeconds, step.OrderToFill.Summarize(), 0, 0),
                new LoadResult((fills.Length - unsettled - compensated) / settleSeconds, settle.Summarize(), (int)(unsettled + compensated), 0),
                cpu, sent, step.Accepted, step.Rejected, step.Errors, step.SelfTradeCancels, fills.Length, unsettled, compensated, early, step.FellBehind,
                StateSize.Read(database), Math.Max(0, machine - cpu), cpuSeconds * 1000 / Math.Max(1, step.Accepted + step.Rejected));
        }
    }

    /// <summary>What one run of a step records while it runs.</summary>
    private sealed class StepState
    {
        public long Accepted;
        public long Rejected;
        public long Errors;
        public long ErrorsShown;
        public long SelfTradeCancels;
        public long InFlight;
        public long LastAnswer;
        public bool FellBehind;

        public LatencyRecorder Place { get; } = new();

        public LatencyRecorder OrderToFill { get; } = new();

        public ConcurrentBag<(string FillId, long Answered)> Fills { get; } = [];

        public TimeSpan CpuStart { get; } = Process.GetCurrentProcess().TotalProcessorTime;

        public long AllocatedStart { get; } = GC.GetTotalAllocatedBytes(precise: false);

        public (long Busy, long Total) MachineStart { get; } = MachineCpu.Read();

        public void Answered(long at)
        {
            var seen = Volatile.Read(ref LastAnswer);
            while (at > seen && Interlocked.CompareExchange(ref LastAnswer, at, seen) is var found && found != seen)
            {
                seen = found;
            }
        }
    }

    /// <summary>
    /// The observer app: subscribes to topic <c>trading</c> on <c>pubsub</c> with routing rules for fills and the two
    /// ends of a settlement and no default route, so its sidecar drops every other trading event without calling it.
    /// Notes each fill's time in the book (its <c>occurredAt</c>) and when each settlement's end arrived.
    /// </summary>
    private sealed class SettlementObserver
    {
        public ConcurrentDictionary<string, DateTimeOffset> Filled { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, (long Stamp, DateTimeOffset At)> Settled { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, long> Compensated { get; } = new(StringComparer.Ordinal);

        public bool Ended(string fillId) => Settled.ContainsKey(fillId) || Compensated.ContainsKey(fillId);

        public WebApplication Build(string[] args, Action<WebApplicationBuilder> configure)
        {
            var builder = WebApplication.CreateSlimBuilder(args);
            configure(builder);
            var app = builder.Build();
            app.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new
                {
                    pubsubname = Components.PubSub,
                    topic = Topics.Trading,
                    routes = new
                    {
                        rules = new object[]
                        {
                            new { match = $"event.type == \"{TradingFill.EventType}\"", path = "/filled" },
                            new { match = $"event.type == \"{TradingSettlementCompleted.EventType}\"", path = "/settled" },
                            new { match = $"event.type == \"{TradingSettlementCompensated.EventType}\"", path = "/compensated" },
                        },
                    },
                },
            }));
            app.MapPost("/filled", async (HttpRequest request) =>
            {
                using var json = await JsonDocument.ParseAsync(request.Body);
                var data = json.RootElement.GetProperty("data");
                Filled.TryAdd(data.GetProperty("fillId").GetString()!, data.GetProperty("occurredAt").GetDateTimeOffset());
                return Results.Ok();
            });
            app.MapPost("/settled", async (HttpRequest request) =>
            {
                var stamp = Stopwatch.GetTimestamp();
                var at = DateTimeOffset.UtcNow;
                using var json = await JsonDocument.ParseAsync(request.Body);
                Settled.TryAdd(json.RootElement.GetProperty("data").GetProperty("settlementId").GetString()!, (stamp, at));
                return Results.Ok();
            });
            app.MapPost("/compensated", async (HttpRequest request) =>
            {
                var stamp = Stopwatch.GetTimestamp();
                using var json = await JsonDocument.ParseAsync(request.Body);
                Compensated.TryAdd(json.RootElement.GetProperty("data").GetProperty("settlementId").GetString()!, stamp);
                return Results.Ok();
            });
            return app;
        }
    }

    /// <summary>Folds ids out of a path: the actor id after <c>actors/{type}/</c>, player and settlement ids.</summary>
    private static string FoldIds(string path)
    {
        var parts = path.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            if (i >= 2 && parts[i - 2] == "actors")
            {
                parts[i] = "*";
            }
            else if (i >= 1 && parts[i - 1] is "wallets" or "settlements")
            {
                parts[i] = "*";
            }
        }
        return string.Join('/', parts);
    }

    /// <summary>The peer: the same stream through the matching engine alone, one thread, no I/O.</summary>
    private static class EnginePeer
    {
        public static (LoadResult Result, double FillsPerOrder) Run(OrderStream stream, TimeSpan duration)
        {
            // The stream the full path used, at least 100,000 orders, replayed in passes on one book.
            var count = Math.Max(100_000, stream.Count);
            var orders = new NewOrder[count];
            for (var i = 0; i < count; i++)
            {
                var o = stream[i];
                orders[i] = new NewOrder(0, o.Player + 1, o.Side == OrderSide.Buy ? Side.Buy : Side.Sell, OrderType.Limit, o.Price, o.Quantity);
            }
            var book = new OrderBook(new BookOptions(SelfTradePrevention.CancelNewest, InitialCapacity: 1 << 16));
            var listener = new CountingListener();
            long id = 0;
            var samples = new LatencyRecorder();
            Pass(book, orders, ref listener, ref id, null);
            long done = 0;
            var fillsBefore = listener.Fills;
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            var until = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            do
            {
                Pass(book, orders, ref listener, ref id, samples);
                done += orders.Length;
            }
            while (Stopwatch.GetTimestamp() < until);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            return (new LoadResult(done / seconds, samples.Summarize(), 0, allocated / done), (listener.Fills - fillsBefore) / (double)done);
        }

        private static void Pass(OrderBook book, NewOrder[] orders, ref CountingListener listener, ref long id, LatencyRecorder? samples)
        {
            for (var i = 0; i < orders.Length; i++)
            {
                var order = orders[i] with { OrderId = ++id };
                // One order in 64 timed alone, as in trading-engine.
                if (samples is not null && (i & 63) == 0)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    book.Submit(in order, ref listener);
                    samples.Record(t0, Stopwatch.GetTimestamp());
                }
                else
                {
                    book.Submit(in order, ref listener);
                }
            }
        }
    }

    private struct CountingListener : IBookListener
    {
        public long Fills;

        public readonly void OnAccepted(in NewOrder order)
        {
        }

        public readonly void OnRejected(in NewOrder order, RejectReason reason)
        {
        }

        public void OnFill(in Fill fill) => Fills++;

        public readonly void OnRested(long orderId, Side side, long price, long remaining)
        {
        }

        public readonly void OnCancelled(long orderId, long ownerId, Side side, long price, long remaining, CancelReason reason)
        {
        }

        public readonly void OnDepthChanged(Side side, long price, long totalQuantityAtLevel, long sequence)
        {
        }
    }
}
