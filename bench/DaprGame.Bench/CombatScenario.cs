using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Matches;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;
using DaprGame.Hosting;
using DaprGame.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprGame.Bench;

/// <summary>
/// Scenario <c>combat</c>: matches end to end. The gateway and combat run in-process on the <c>local</c> profile with
/// their sidecars; every player is a gateway guest who joins through the gateway (<c>POST /v1/combat/matches/{id}/join</c>
/// → a ticket and the match socket's address) and plays over a real match socket: for each snapshot it sends an input
/// for the next tick (with its sequence) and acknowledges the tick. The service's figures come from its own meter
/// (<c>daprgame.combat.*</c>, read by a <see cref="MeterListener"/> in this process); the clients' from their loops.
/// <list type="number">
/// <item><b>Capacity</b>: 10-player deathmatches on <c>arena</c> at 30 Hz, added in steps (10, 25, 50, 100, 200, 300,
/// 400 running at once); per step, held <c>--seconds</c>: tick duration p50/p99, overruns, ticks per match per second,
/// snapshots/s and bytes per client per second sent, the clients' snapshot interval, and the process's CPU. Two
/// verdicts per step: the issue's (tick p99 within 33 ms and not one overrun) and the ladder's (p99 within 33 ms and at
/// least 95 % of 30 ticks/s per match); the ladder stops after two of its misses in a row, a failed setup, or three
/// minutes. The ladder's matches are not ended through the API (see <see cref="EndAllAsync"/>).</item>
/// <item><b>Arena</b>: one match on <c>field</c> at 20 Hz with 2,000 bots and the most players a match holds (64):
/// tick p99 against the 50 ms budget and bytes per client per second.</item>
/// <item><b>Delta vs full</b>: in the same arena match, half the players acknowledge (deltas) and half never do (a
/// full snapshot, inside the interest radius, every tick): bytes per client per second of each and their ratio.</item>
/// </list>
/// The API refuses more than 64 bots; the combat replica of this bench runs the real simulation core behind a factory
/// that gives every <c>field</c> match <see cref="ArenaBots"/> bots (<see cref="ArenaSimulations"/>). One ladder per
/// invocation (<c>--runs</c> is not used): the whole scenario stops within about five minutes.
/// </summary>
internal static class CombatScenario
{
    private const int PlayersPerMatch = 10;
    private const int CapacityTickRate = 30;
    private const int ArenaTickRate = 20;
    private const int ArenaBots = 2000;
    private const int ArenaPlayers = 64;
    private const int SetupParallelism = 2;
    private const double TickRateKept = 0.95;

    private static readonly int[] Steps = [10, 25, 50, 100, 200, 300, 400];

    // The ladder stops adding steps after this much time, so that the arena still runs and the whole scenario ends
    // within about five minutes.
    private static readonly TimeSpan LadderBudget = TimeSpan.FromMinutes(3.0);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    // Before the first window: the JIT compiles the socket, tick and HTTP paths at higher tiers for several seconds.
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(8);

    public static async Task<BenchReport> RunAsync(BenchOptions options)
    {
        var report = new BenchReport("combat", options);
        Console.Error.WriteLine("[combat] starting gateway and combat with their sidecars…");
        await using var cluster = await LocalCluster.StartAsync(ClusterProfile.Local,
        [
            new ClusterApp(AppIds.Combat, (args, configure) => DaprGame.Combat.CombatApp.Build(args, configure), 1, b =>
            {
                b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Error);
                b.Services.AddSingleton<ISimulationFactory>(new ArenaSimulations());
            }),
            new ClusterApp(AppIds.Gateway, (args, configure) => DaprGame.Gateway.GatewayApp.Build(args, configure), 1, b =>
            {
                b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Error);
                b.Configuration["Auth:Pbkdf2Iterations"] = "1000";
            }),
        ]);
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = cluster.Node(AppIds.Gateway).AppAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var api = new GatewayApi(http);
        var players = new string[ArenaPlayers];
        await Parallel.ForAsync(0, ArenaPlayers, new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism }, async (i, ct) =>
            players[i] = await api.GuestAsync($"bench-fighter-{i:D3}", ct));
        using var server = new ServerProbe();
        var stats = new ClientStats();
        var started = Stopwatch.GetTimestamp();

        // The arena first: ending matches that have run a while is slow (see EndAllAsync), so the capacity ladder's
        // matches are never ended through the API; they stop with the cluster.
        if (options.Includes("arena"))
        {
            await ArenaAsync(report, options, api, players, server, stats);
        }

        var (capacity, strict) = options.Includes("capacity") ? await CapacityAsync(report, options, api, players, server, stats, started) : (double.NaN, double.NaN);
        report.Comparisons.Add(new BenchComparison("capacity: 10-player matches at 30 Hz, p99 <= 33 ms, 0 overruns", strict, "matches", ">= 200", double.IsNaN(strict) ? null : strict >= 200));
        report.Comparisons.Add(new BenchComparison("capacity: the same, p99 <= 33 ms, >= 95 % of 30 ticks/s", capacity, "matches", ">= 200", double.IsNaN(capacity) ? null : capacity >= 200));

        report.Notes.Add("players are gateway guests; each match: create, 10 joins through the gateway (ticket + address), a match socket per player, start; " +
            "a player sends one input per snapshot received (next tick, its sequence, a move turning every second, no fire) and acks the snapshot's tick");
        report.Notes.Add("tick figures: the service's daprgame.combat.tick.duration (the tick's work under the match lock: inputs, Step, snapshot frames queued), " +
            "overruns from daprgame.combat.tick.overruns, bytes from daprgame.combat.snapshot.bytes (frame with 13-byte header, before WebSocket framing)");
        report.Notes.Add("one process holds the gateway, combat, their sidecars, SQLite and every client socket on the same " +
            Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) + " cores; CPU is that process's");
        return report;
    }

    /// <summary>Adds matches step by step; returns the largest step that kept within budget (0 when none did).</summary>
    private static async Task<(double Kept, double Strict)> CapacityAsync(BenchReport report, BenchOptions options, GatewayApi api, string[] players, ServerProbe server, ClientStats stats, long started)
    {
        var matches = new List<BenchMatch>();
        using var stop = new CancellationTokenSource();
        double kept = 0;
        double strictKept = 0;
        var strictBroken = false;
        var misses = 0;
        try
        {
            foreach (var step in Steps)
            {
                if (Stopwatch.GetElapsedTime(started) > LadderBudget)
                {
                    report.Notes.Add($"capacity: stopped before {step} matches: the ladder's time budget ({LadderBudget.TotalMinutes:0.#} min) was spent");
                    break;
                }
                var setupStart = Stopwatch.GetTimestamp();
                api.Calls = new LatencyRecorder();
                var adding = Enumerable.Range(matches.Count, step - matches.Count).ToArray();
                var added = new BenchMatch[adding.Length];
                await Parallel.ForAsync(0, adding.Length, new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism }, async (i, ct) =>
                    added[i] = await BenchMatch.StartAsync(api, players, $"cap-{adding[i]:D4}", "arena", CapacityTickRate, PlayersPerMatch,
                        stats, bot => true, bot => bot == 0, stop.Token, ct));
                matches.AddRange(added);
                var setup = Stopwatch.GetElapsedTime(setupStart);
                var calls = api.Calls.Summarize();
                await Task.Delay(step == Steps[0] ? WarmUp : Settle);
                var w = await MeasureAsync(server, stats, options.Duration);
                var clients = step * PlayersPerMatch;
                var ticksPerMatch = w.Server.Ticks.Count / w.Seconds / step;
                // Two verdicts: the issue's (p99 within the period and not one overrun), and the one the ladder stops on
                // (p99 within the period and at least 95 % of the tick rate kept): on a shared machine one preempted
                // tick is an overrun at any step, and stopping there would say nothing about where the service tops out.
                var strict = w.Server.Ticks.P99Ms <= 1000.0 / CapacityTickRate && w.Server.Overruns == 0;
                var missed = !(w.Server.Ticks.P99Ms <= 1000.0 / CapacityTickRate) || ticksPerMatch < TickRateKept * CapacityTickRate;
                var mode = $"{step} matches";
                report.Rows.Add(new BenchRow($"tick (10 players, 30 Hz)", "combat", mode, w.Server.Ticks.Count / w.Seconds,
                    w.Server.Ticks.P50Ms, w.Server.Ticks.P99Ms, w.Server.Ticks.P999Ms, 0, (int)w.Server.Overruns, [], []));
                report.Rows.Add(new BenchRow($"snapshot interval at the client", "socket", mode, w.Client.Snapshots / w.Seconds,
                    w.Client.Intervals.P50Ms, w.Client.Intervals.P99Ms, w.Client.Intervals.P999Ms, 0, (int)w.Client.Gaps, [], []));
                report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{mode} ({clients} clients): {ticksPerMatch:0.0} ticks/s per match; tick p50 {w.Server.Ticks.P50Ms:0.000} ms p99 {w.Server.Ticks.P99Ms:0.000} ms; " +
                    $"overruns {w.Server.Overruns} ({w.Server.Overruns * 1000.0 / Math.Max(1, w.Server.Ticks.Count):0.0} per 1,000 ticks); snapshots sent {w.Server.Snapshots / w.Seconds:0}/s, {w.Server.SnapshotBytes / w.Seconds / clients:0} B/client/s " +
                    $"(received {w.Client.Bytes / w.Seconds / clients:0} B/client/s, {w.Client.Snapshots / w.Seconds:0}/s); client interval p50 {w.Client.Intervals.P50Ms:0.0} ms " +
                    $"p99 {w.Client.Intervals.P99Ms:0.0} ms; snapshots skipped at clients {w.Client.Gaps}; inputs received {w.Server.Inputs / w.Seconds:0}/s, rejected {w.Server.Rejected} {w.Server.Reasons}; " +
                    $"decoded {w.Client.Decoded} (errors {w.Client.DecodeErrors}); CPU {w.Cpu:P0} of {Environment.ProcessorCount} cores (machine {w.MachineCpu:P0}); " +
                    $"setup of the step {setup.TotalSeconds:0.0} s ({calls.Count} API calls through the gateway, p50 {calls.P50Ms:0} ms p99 {calls.P99Ms:0} ms, {SetupParallelism} matches at a time); socket failures so far {stats.Failures}{(missed ? " — MISSED" : strict ? "" : " — misses the strict verdict")}"));
                Console.Error.WriteLine($"[combat] {report.Notes[^1]}");
                strictBroken |= !strict;
                if (!strictBroken)
                {
                    strictKept = step;
                }
                if (missed)
                {
                    // One miss may be the machine (other jobs on the two cores); two in a row is where the path tops out.
                    if (++misses == 2)
                    {
                        break;
                    }
                    continue;
                }
                misses = 0;
                kept = Math.Max(kept, step);
            }
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            report.Notes.Add($"capacity: setting up a step failed, ladder stopped: {error.Message}; the first failed call: {api.FirstFailure ?? "none answered with an error"}");
            Console.Error.WriteLine($"[combat] {report.Notes[^1]}");
        }
        finally
        {
            // Not ended through the API: each end waits for the replay save and one state delete per journal chunk in
            // the owner's actor call, which outlasts the 5 s actor timeout after a minute at this load and opens the
            // gateway's circuit breaker. The clients close; the loops stop with the cluster.
            await stop.CancelAsync();
            await Task.WhenAny(Task.WhenAll(matches.SelectMany(m => m.Loops)), Task.Delay(TimeSpan.FromSeconds(5)));
            foreach (var m in matches)
            {
                m.Dispose();
            }
        }
        return (kept, strictKept);
    }

    private static async Task ArenaAsync(BenchReport report, BenchOptions options, GatewayApi api, string[] players, ServerProbe server, ClientStats stats)
    {
        using var stop = new CancellationTokenSource();
        var started = Stopwatch.GetTimestamp();
        // Even players acknowledge (deltas), odd ones never do (full snapshots); one of each decodes every snapshot.
        var match = await BenchMatch.StartAsync(api, players, "arena-0", "field", ArenaTickRate, ArenaPlayers, stats,
            bot => bot % 2 == 0, bot => bot < 2, stop.Token, CancellationToken.None);
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"arena: created, 64 joins and sockets, started in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s"));
        try
        {
            await Task.Delay(Settle);
            server.TraceThreads = true;
            var w = await MeasureAsync(server, stats, options.Duration);
            server.TraceThreads = false;
            var ackers = ArenaPlayers / 2;
            var deltaPerClient = w.Client.AckerBytes / w.Seconds / ackers;
            var fullPerClient = (w.Client.Bytes - w.Client.AckerBytes) / w.Seconds / (ArenaPlayers - ackers);
            var mode = $"{ArenaBots} bots+{ArenaPlayers}";
            report.Rows.Add(new BenchRow("tick (field, 20 Hz)", "combat", mode, w.Server.Ticks.Count / w.Seconds,
                w.Server.Ticks.P50Ms, w.Server.Ticks.P99Ms, w.Server.Ticks.P999Ms, 0, (int)w.Server.Overruns, [], []));
            report.Rows.Add(new BenchRow("snapshot interval at the client", "socket", mode, w.Client.Snapshots / w.Seconds,
                w.Client.Intervals.P50Ms, w.Client.Intervals.P99Ms, w.Client.Intervals.P999Ms, 0, (int)w.Client.Gaps, [], []));
            report.Comparisons.Add(new BenchComparison("arena: players in one match (API and domain cap)", ArenaPlayers, "clients", ">= 1000", false));
            report.Comparisons.Add(new BenchComparison($"arena: tick p99, {ArenaBots} bots + {ArenaPlayers} clients", w.Server.Ticks.P99Ms, "ms", "<= 50", w.Server.Ticks.P99Ms <= 50));
            report.Comparisons.Add(new BenchComparison("arena: bytes/client/s, acking (delta + interest)", deltaPerClient, "B/s", "<= 30000", deltaPerClient <= 30_000));
            report.Comparisons.Add(new BenchComparison("arena: bytes/client/s, never acking (full + interest)", fullPerClient, "B/s", "", null));
            report.Comparisons.Add(new BenchComparison("arena: delta / full bytes (same match, same run)", deltaPerClient / fullPerClient, "ratio", "<= 0.2", deltaPerClient / fullPerClient <= 0.2));
            report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"arena ({ArenaBots} bots on field, {ArenaPlayers} players at 20 Hz, {ackers} acking): {w.Server.Ticks.Count / w.Seconds:0.0} ticks/s; tick p50 {w.Server.Ticks.P50Ms:0.000} ms " +
                $"p99 {w.Server.Ticks.P99Ms:0.000} ms; overruns {w.Server.Overruns}; sent {w.Server.SnapshotBytes / w.Seconds / ArenaPlayers:0} B/client/s on average; " +
                $"acking clients received {deltaPerClient:0} B/s, never-acking {fullPerClient:0} B/s; full snapshots received {w.Client.FullSnapshots} " +
                $"({w.Client.FullBytes / Math.Max(1.0, w.Client.FullSnapshots):0} B each); client interval p50 {w.Client.Intervals.P50Ms:0.0} ms p99 {w.Client.Intervals.P99Ms:0.0} ms; " +
                $"inputs rejected {w.Server.Rejected} {w.Server.Reasons}; skipped {w.Client.Gaps}; decoded {w.Client.Decoded} (errors {w.Client.DecodeErrors}); CPU {w.Cpu:P0} (machine {w.MachineCpu:P0}); " +
                $"snapshot part of the tick (first frame → tick end, {w.Server.Traced} ticks): {w.Server.PhaseWallMs:0.00} ms wall on average, of which {w.Server.PhaseCpuMs:0.00} ms on a core " +
                $"and {w.Server.PhaseWaitMs:0.00} ms runnable but waiting for one (the tick thread's /proc schedstat)"));
            Console.Error.WriteLine($"[combat] {report.Notes[^1]}");
        }
        finally
        {
            await EndAllAsync(api, players, [match], stop);
        }
    }

    /// <summary>
    /// Ends matches through the API (end frames, sockets closed), then lets the clients' loops finish. The owner's end
    /// call waits in the Match actor's turn for the loop to stop, the replay to be saved and every journal chunk (one per
    /// 20 ticks) to be deleted one by one: fine for the arena's one short match.
    /// </summary>
    private static async Task EndAllAsync(GatewayApi api, string[] players, List<BenchMatch> matches, CancellationTokenSource stop)
    {
        await Parallel.ForEachAsync(matches, new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism }, async (m, ct) =>
        {
            try
            {
                await api.PostAsync(players[0], CombatRoutes.End(m.Id), null, ct);
            }
            catch (HttpRequestException)
            {
                // Measured already; the cluster's disposal stops the rest.
            }
        });
        var loops = Task.WhenAll(matches.SelectMany(m => m.Loops));
        await Task.WhenAny(loops, Task.Delay(TimeSpan.FromSeconds(10)));
        await stop.CancelAsync();
        await Task.WhenAny(loops, Task.Delay(TimeSpan.FromSeconds(5)));
        foreach (var m in matches)
        {
            m.Dispose();
        }
    }

    private static async Task<Window> MeasureAsync(ServerProbe server, ClientStats stats, TimeSpan duration)
    {
        server.Swap();
        stats.Swap();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var machine = MachineCpu.Read();
        var start = Stopwatch.GetTimestamp();
        await Task.Delay(duration);
        var s = server.Swap();
        var c = stats.Swap();
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / seconds / Environment.ProcessorCount;
        return new Window(seconds, new ServerFigures(s.Ticks.Summarize(), s.Overruns, s.Snapshots, s.SnapshotBytes, s.Inputs, s.Rejected, s.ReasonsText(),
            s.Traced, s.PhaseWallNs / 1e6 / Math.Max(1, s.Traced), s.PhaseCpuNs / 1e6 / Math.Max(1, s.Traced), s.PhaseWaitNs / 1e6 / Math.Max(1, s.Traced)),
            new ClientFigures(c.Intervals.Summarize(), c.Snapshots, c.Bytes, c.AckerBytes, c.FullSnapshots, c.FullBytes, c.Gaps, c.Decoded, c.DecodeErrors),
            used, MachineCpu.Since(machine));
    }

    private sealed record Window(double Seconds, ServerFigures Server, ClientFigures Client, double Cpu, double MachineCpu);

    private sealed record ServerFigures(LatencySummary Ticks, long Overruns, long Snapshots, long SnapshotBytes, long Inputs, long Rejected, string Reasons,
        long Traced, double PhaseWallMs, double PhaseCpuMs, double PhaseWaitMs);

    private sealed record ClientFigures(LatencySummary Intervals, long Snapshots, long Bytes, long AckerBytes, long FullSnapshots, long FullBytes, long Gaps, long Decoded, long DecodeErrors);

    /// <summary>One match of the bench: created, joined by its players through the gateway, their sockets open, started.</summary>
    private sealed class BenchMatch : IDisposable
    {
        private BenchMatch(string id, MatchBot[] bots, Task[] loops)
        {
            Id = id;
            Bots = bots;
            Loops = loops;
        }

        public string Id { get; }

        public MatchBot[] Bots { get; }

        public Task[] Loops { get; }

        public static async Task<BenchMatch> StartAsync(GatewayApi api, string[] players, string id, string map, int tickRate, int count,
            ClientStats stats, Func<int, bool> acks, Func<int, bool> decodes, CancellationToken stop, CancellationToken ct)
        {
            // Bots: 0 here; the bench's factory gives a field match its 2,000 (the API refuses more than 64).
            await api.PostAsync(players[0], CombatRoutes.Matches,
                new CreateMatch(id, "deathmatch", map, tickRate, Seed: 20261130, MaxPlayers: count, DurationTicks: 0, ScoreLimit: 0, Bots: 0), ct);
            var bots = new MatchBot[count];
            for (var i = 0; i < count; i++)
            {
                var ticket = await api.JoinAsync(players[i], id, ct);
                bots[i] = new MatchBot(stats, acks(i), decodes(i), ticket.Entity, i);
                await bots[i].ConnectAsync(ticket, ct);
            }
            var loops = bots.Select(b => Task.Run(() => b.RunAsync(stop), CancellationToken.None)).ToArray();
            await api.PostAsync(players[0], CombatRoutes.Start(id), null, ct);
            return new BenchMatch(id, bots, loops);
        }

        public void Dispose()
        {
            foreach (var b in Bots)
            {
                b.Dispose();
            }
        }
    }

    /// <summary>The gateway's API as a player calls it: guest tokens, combat routes under <c>/v1/combat</c>.</summary>
    private sealed class GatewayApi(HttpClient http)
    {
        private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);
        private string? _firstFailure;

        public string? FirstFailure => Volatile.Read(ref _firstFailure);

        /// <summary>Every combat call's time through the gateway; the scenario takes a new one per step.</summary>
        public LatencyRecorder Calls { get; set; } = new();

        /// <summary>Signs a guest in; returns the device name, which keys their token here.</summary>
        public async Task<string> GuestAsync(string device, CancellationToken ct)
        {
            using var response = await http.PostAsJsonAsync("/v1/auth/guest", new { deviceId = device }, ct);
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            lock (_tokens)
            {
                _tokens[device] = body.GetProperty("accessToken").GetString()!;
            }
            return device;
        }

        public async Task<JoinTicket> JoinAsync(string player, string matchId, CancellationToken ct)
        {
            var text = await PostAsync(player, CombatRoutes.Join(matchId), null, ct);
            return JsonSerializer.Deserialize<JoinTicket>(text, ServiceDefaults.JsonOptions)!;
        }

        /// <summary>POSTs a combat route (as combat names it, under <c>/v1</c>) through the gateway; throws with the answer on failure.</summary>
        public async Task<string> PostAsync(string player, string route, object? body, CancellationToken ct)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/combat" + route["/v1".Length..]);
            string token;
            lock (_tokens)
            {
                token = _tokens[player];
            }
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body, body.GetType(), options: ServiceDefaults.JsonOptions);
            }
            var sent = Stopwatch.GetTimestamp();
            HttpResponseMessage answer;
            try
            {
                answer = await http.SendAsync(request, ct);
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                Interlocked.CompareExchange(ref _firstFailure, $"POST {request.RequestUri}: no answer within {http.Timeout.TotalSeconds:0} s", null);
                throw;
            }
            using var response = answer;
            Calls.Record(sent, Stopwatch.GetTimestamp());
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                // Retries through the sidecars and the breaker turn one failure into many: the first says what failed.
                Interlocked.CompareExchange(ref _firstFailure, $"POST {request.RequestUri}: {(int)response.StatusCode} {text}", null);
                throw new HttpRequestException($"POST {request.RequestUri}: {(int)response.StatusCode} {text}");
            }
            return text;
        }
    }

    /// <summary>
    /// The real simulation core (<see cref="MatchSimulations"/>, <see cref="Replays"/>), except that a match on
    /// <c>field</c> gets <see cref="ArenaBots"/> bots: the API caps bots at 64, the core at
    /// <see cref="MatchSimulations.MaxBots"/>.
    /// </summary>
    private sealed class ArenaSimulations : ISimulationFactory
    {
        public IReadOnlyList<string> Maps => MatchSimulations.Maps;

        public string? Validate(MatchSetup setup) => MatchSimulations.Validate(setup);

        public IMatchSimulation Create(MatchSetup setup) =>
            MatchSimulations.Create(setup.Map == "field" ? setup with { Bots = ArenaBots } : setup);

        public ReplayOutcome Verify(byte[] log, IReadOnlyList<ulong> expectedHashes)
        {
            var r = Replays.Verify(log, expectedHashes);
            return new ReplayOutcome(r.Ticks, r.FinalHash, r.Mismatches, r.FirstMismatchTick);
        }
    }

    /// <summary>What the service's meter recorded in one window (daprgame.combat.*), read in-process.</summary>
    private sealed class ServerProbe : IDisposable
    {
        private readonly MeterListener _listener = new();
        private ServerWindow _current = new();

        public ServerProbe()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == DaprGame.Combat.Infrastructure.CombatMetrics.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
            {
                if (instrument.Name == "daprgame.combat.tick.duration")
                {
                    var w = Volatile.Read(ref _current);
                    w.Ticks.RecordMs(value);
                    if (t_phaseStart != 0)
                    {
                        // The loop records the tick's duration on the thread that ran it, right after the lock.
                        var (cpu, wait) = ThreadSchedule();
                        Interlocked.Add(ref w.PhaseWallNs, (long)Stopwatch.GetElapsedTime(t_phaseStart).TotalNanoseconds);
                        Interlocked.Add(ref w.PhaseCpuNs, cpu - t_cpu);
                        Interlocked.Add(ref w.PhaseWaitNs, wait - t_wait);
                        Interlocked.Increment(ref w.Traced);
                        t_phaseStart = 0;
                    }
                }
            });
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var w = Volatile.Read(ref _current);
                switch (instrument.Name)
                {
                    case "daprgame.combat.tick.overruns":
                        Interlocked.Add(ref w.Overruns, value);
                        break;
                    case "daprgame.combat.snapshot.bytes":
                        if (TraceThreads && t_phaseStart == 0)
                        {
                            (t_cpu, t_wait) = ThreadSchedule();
                            t_phaseStart = Stopwatch.GetTimestamp();
                        }
                        Interlocked.Increment(ref w.Snapshots);
                        Interlocked.Add(ref w.SnapshotBytes, value);
                        break;
                    case "daprgame.combat.inputs.received":
                        Interlocked.Add(ref w.Inputs, value);
                        break;
                    case "daprgame.combat.inputs.rejected":
                        Interlocked.Add(ref w.Rejected, value);
                        foreach (var tag in tags)
                        {
                            if (tag.Key == "reason" && tag.Value is string reason)
                            {
                                w.Reasons.AddOrUpdate(reason, value, (_, sum) => sum + value);
                            }
                        }
                        break;
                }
            });
            _listener.Start();
        }

        [ThreadStatic]
        private static long t_phaseStart;
        [ThreadStatic]
        private static long t_cpu;
        [ThreadStatic]
        private static long t_wait;

        /// <summary>
        /// Whether to time the snapshot part of each tick (its first snapshot frame to the tick's end) in wall time, time
        /// on a core and time runnable but waiting for one: two reads of <c>/proc/thread-self/schedstat</c> per tick, for
        /// the arena's one match only.
        /// </summary>
        public bool TraceThreads { get; set; }

        public ServerWindow Swap() => Interlocked.Exchange(ref _current, new ServerWindow());

        public void Dispose() => _listener.Dispose();

        /// <summary>This thread's nanoseconds on a core and runnable-but-waiting (Linux; zeros elsewhere).</summary>
        private static (long Cpu, long Wait) ThreadSchedule()
        {
            try
            {
                var parts = File.ReadAllText("/proc/thread-self/schedstat").Split(' ');
                return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return (0, 0);
            }
        }
    }

    private sealed class ServerWindow
    {
        public MicrosHistogram Ticks { get; } = new();

        public long Overruns;
        public long Snapshots;
        public long SnapshotBytes;
        public long Inputs;
        public long Rejected;
        public long Traced;
        public long PhaseWallNs;
        public long PhaseCpuNs;
        public long PhaseWaitNs;

        public System.Collections.Concurrent.ConcurrentDictionary<string, long> Reasons { get; } = new(StringComparer.Ordinal);

        public string ReasonsText() => Reasons.IsEmpty ? "" : "(" + string.Join(", ", Reasons.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}")) + ")";
    }

    /// <summary>The whole machine's CPU use from <c>/proc/stat</c> (Linux; NaN elsewhere).</summary>
    private static class MachineCpu
    {
        public static (long Busy, long Total) Read()
        {
            try
            {
                var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                    .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
                return (fields.Take(8).Sum() - fields[3] - fields[4], fields.Take(8).Sum());
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
}
