using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Persistence;

namespace DaprGame.Bench;

/// <summary>One measured ingest run: what became visible, how fast, how late, and what the service did meanwhile.</summary>
internal sealed record IngestRun(
    long Published,
    long Visible,
    double Seconds,
    IngestLag Lag,
    long Transactions,
    long Records,
    long Held,
    long Duplicates,
    int PublishFailures,
    long AllocatedBytes,
    CpuShares Cpu,
    bool Drained)
{
    public double EventsPerSecond => Visible / Seconds;

    public double RecordsPerTransaction => Transactions == 0 ? double.NaN : Records / (double)Transactions;

    public LoadResult ToLoadResult() =>
        new(EventsPerSecond, new LatencySummary((int)Lag.Count, Lag.P50Ms, Lag.P99Ms, double.NaN), PublishFailures, Visible == 0 ? 0 : AllocatedBytes / Visible);

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{EventsPerSecond:N0} events/s visible ({Visible:N0} of {Published:N0} in {Seconds:0.0} s{(Drained ? "" : ", NOT DRAINED")}), lag p50 {Lag.P50Ms:0.0} / p99 {Lag.P99Ms:0.0} / max {Lag.MaxMs:0} ms, " +
        $"{RecordsPerTransaction:0.0} records/tx ({Transactions / Seconds:0}/s), held {Held}, duplicates {Duplicates}, publish failures {PublishFailures}, {Cpu}");
}

/// <summary>
/// Publishes the four event kinds to a persistence service through a publisher's own sidecar and watches the service
/// take them. Each kind has <see cref="StreamsPerKind"/> streams whose sequences run 1, 2, 3… across every run on this
/// service; a kind is only ever published by one call at a time, so each stream reaches the broker in order.
/// Progress comes from the service's meter (<c>persistence.append.records</c>, read in-process by a
/// <see cref="MeterListener"/>): it bounds the events in flight without asking the status route, which hashes every
/// view under the writer's lock. Runs start and end on the status route (position, watermark, lag), waiting with
/// <c>atLeast</c> rather than polling.
/// </summary>
internal sealed class PersistenceIngest : IDisposable
{
    public const int StreamsPerKind = 16;
    public const int BulkSize = 100;

    /// <summary>Published but not yet appended, at most, in the closed loop.</summary>
    public const int Window = 1_000;

    private const int Players = 10_000;

    private readonly DaprClient _publisher;
    private readonly HttpClient _status;
    private readonly long[] _sequences = new long[PersistenceEvents.Kinds.Length * StreamsPerKind];
    private readonly int[] _cursor = new int[PersistenceEvents.Kinds.Length];
    private readonly MeterListener _listener = new();
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _appended;
    private long _transactions;
    private int _salt;

    public PersistenceIngest(DaprClient publisher, Uri persistence)
    {
        _publisher = publisher;
        _status = new HttpClient { BaseAddress = persistence, Timeout = TimeSpan.FromSeconds(90) };
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "DaprGame.Persistence" && instrument.Name is "persistence.append.records" or "persistence.append.batch")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            Interlocked.Add(ref _appended, value);
            Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        });
        _listener.SetMeasurementEventCallback<int>((_, _, _, _) => Interlocked.Increment(ref _transactions));
        _listener.Start();
    }

    public async Task<LogStatus> StatusAsync(long? atLeast = null, int waitMs = 60_000)
    {
        var uri = atLeast is { } p ? $"{PersistenceRoutes.Status}?atLeast={p}&waitMs={waitMs}" : PersistenceRoutes.Status;
        return await _status.GetFromJsonAsync<LogStatus>(uri, JsonSerializerOptions.Web) ?? throw new InvalidOperationException("empty status");
    }

    /// <summary>Waits (bounded) until the service has recovered its log and takes deliveries.</summary>
    public async Task<LogStatus> WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                var status = await StatusAsync();
                if (status.Ready)
                {
                    return status;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"the persistence service was not ready within {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Closed loop: one worker per event kind publishes <see cref="BulkSize"/> events per bulk call, as fast as the
    /// service appends them (never more than <see cref="Window"/> in flight), for <paramref name="duration"/>; then waits
    /// until the views reflect everything published. Throughput is events visible ÷ time until visible.
    /// </summary>
    public async Task<IngestRun> ClosedLoopAsync(TimeSpan duration)
    {
        var start = await BeginAsync();
        long reserved = 0;
        var failures = 0;
        using var stop = new CancellationTokenSource(duration);
        var workers = Enumerable.Range(0, PersistenceEvents.Kinds.Length).Select(kind => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var progress = Volatile.Read(ref _progress).Task;
                if (Interlocked.Read(ref reserved) + BulkSize - (Interlocked.Read(ref _appended) - start.Appended) > Window)
                {
                    // Woken by the next append; the timeout only rechecks the stop signal.
                    await Task.WhenAny(progress, Task.Delay(100));
                    continue;
                }
                Interlocked.Add(ref reserved, BulkSize);
                var failed = await PublishAsync(kind, BulkSize, DateTimeOffset.UtcNow);
                if (failed > 0)
                {
                    Interlocked.Add(ref reserved, -failed);
                    Interlocked.Add(ref failures, failed);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return await EndAsync(start, Interlocked.Read(ref reserved), failures);
    }

    /// <summary>
    /// Open loop at <paramref name="eventsPerSecond"/>: bulk calls on a fixed schedule (about 100 calls a second, the
    /// kinds in turn), each event's <c>occurredAt</c> its call's scheduled time, so a stall shows in the service's lag
    /// instead of slowing the offered rate. Calls of one kind are chained so its streams stay in order at the broker.
    /// </summary>
    public async Task<IngestRun> OpenLoopAsync(int eventsPerSecond, TimeSpan duration)
    {
        var start = await BeginAsync();
        var perCall = Math.Max(1, eventsPerSecond / 100);
        var callsPerSecond = Math.Max(1.0, eventsPerSecond / (double)perCall);
        var calls = (int)(callsPerSecond * duration.TotalSeconds);
        var interval = Stopwatch.Frequency / callsPerSecond;
        var chains = new Task<int>[PersistenceEvents.Kinds.Length];
        Array.Fill(chains, Task.FromResult(0));
        var wall = DateTimeOffset.UtcNow;
        var t0 = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++)
        {
            var scheduled = t0 + (long)(i * interval);
            while (Stopwatch.GetTimestamp() < scheduled)
            {
                if (scheduled - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 500)
                {
                    await Task.Delay(1);
                }
                else
                {
                    Thread.Yield();
                }
            }
            var kind = i % chains.Length;
            var at = wall.AddSeconds(i / callsPerSecond);
            chains[kind] = After(chains[kind], kind, perCall, at);
        }
        var failed = (await Task.WhenAll(chains)).Sum();
        return await EndAsync(start, (long)calls * perCall - failed, failed);

        async Task<int> After(Task<int> previous, int kind, int count, DateTimeOffset at) => await previous + await PublishAsync(kind, count, at);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _status.Dispose();
    }

    private async Task<Start> BeginAsync()
    {
        using (var reset = await _status.PostAsync(PersistenceRoutes.Status + "/lag/reset", null))
        {
            reset.EnsureSuccessStatusCode();
        }
        var status = await StatusAsync();
        return new Start(status, Interlocked.Read(ref _appended), Interlocked.Read(ref _transactions), GC.GetTotalAllocatedBytes(precise: false), CpuSample.Take(), Stopwatch.GetTimestamp());
    }

    private async Task<IngestRun> EndAsync(Start start, long published, int failures)
    {
        var target = start.Status.Watermark + published;
        var status = await StatusAsync(target);
        if (status.Watermark < target)
        {
            // Held events (gap grace) come back after the sidecar's retry back-off: give them one more wait.
            status = await StatusAsync(target);
        }
        var seconds = Stopwatch.GetElapsedTime(start.Timestamp).TotalSeconds;
        var cpu = CpuSample.Take().Since(start.Cpu);
        return new IngestRun(
            published, status.Watermark - start.Status.Watermark, seconds, status.Lag,
            Interlocked.Read(ref _transactions) - start.Transactions, Interlocked.Read(ref _appended) - start.Appended,
            status.HeldForGaps - start.Status.HeldForGaps, status.Duplicates - start.Status.Duplicates, failures,
            GC.GetTotalAllocatedBytes(precise: false) - start.Allocated, cpu, status.Watermark >= target);
    }

    /// <summary>Publishes <paramref name="count"/> events of one kind, round-robin over its streams; returns how many failed.</summary>
    private async Task<int> PublishAsync(int kind, int count, DateTimeOffset occurredAt)
    {
        var (type, topic) = PersistenceEvents.Kinds[kind];
        var events = new List<JsonElement>(count);
        for (var i = 0; i < count; i++)
        {
            var key = _cursor[kind]++ % StreamsPerKind;
            var sequence = ++_sequences[kind * StreamsPerKind + key];
            var data = PersistenceEvents.Data(type, key, sequence, occurredAt, Interlocked.Increment(ref _salt), Players);
            events.Add(JsonSerializer.Deserialize<JsonElement>(data));
        }
        try
        {
            var response = await _publisher.BulkPublishEventAsync(Components.PubSub, topic, events,
                new Dictionary<string, string> { ["cloudevent.type"] = type });
            return response.FailedEntries.Count;
        }
        catch (DaprException)
        {
            return count;
        }
    }

    private sealed record Start(LogStatus Status, long Appended, long Transactions, long Allocated, CpuSample Cpu, long Timestamp);
}

/// <summary>Shares of the machine's CPU (1.0 = every core busy) over a run: this process, the servers it started, the whole machine.</summary>
internal sealed record CpuShares(double Process, double Servers, double Machine)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"CPU: bench process {Process:P0}, its store servers {Servers:P0}, machine {Machine:P0} of {Environment.ProcessorCount} cores");
}

/// <summary>
/// CPU time of this process, of its descendants (redis-server, postgres and its backends) and of the machine, from
/// <c>/proc</c> (Linux; zeros elsewhere).
/// </summary>
internal sealed record CpuSample(TimeSpan Process, long ServerTicks, long MachineBusy, long MachineTotal, long Timestamp)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    public static CpuSample Take()
    {
        var (busy, total) = Machine();
        return new CpuSample(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime, DescendantTicks(), busy, total, Stopwatch.GetTimestamp());
    }

    public CpuShares Since(CpuSample start)
    {
        var wall = Stopwatch.GetElapsedTime(start.Timestamp, Timestamp).TotalSeconds * Environment.ProcessorCount;
        return new CpuShares(
            (Process - start.Process).TotalSeconds / wall,
            (ServerTicks - start.ServerTicks) / TicksPerSecond / wall,
            MachineTotal > start.MachineTotal ? (MachineBusy - start.MachineBusy) / (double)(MachineTotal - start.MachineTotal) : double.NaN);
    }

    private static (long Busy, long Total) Machine()
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

    /// <summary>utime + stime (+ reaped children's) of every process below this one.</summary>
    private static long DescendantTicks()
    {
        if (!Directory.Exists("/proc"))
        {
            return 0;
        }
        var parents = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // Fields after the command name, which is in parentheses and may hold spaces: state ppid … utime(14) stime cutime cstime.
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)
                    + long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
                parents[pid] = (int.Parse(f[1], CultureInfo.InvariantCulture), ticks);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
            }
        }
        var self = Environment.ProcessId;
        long sum = 0;
        foreach (var (parent, ticks) in parents.Values)
        {
            for (var p = parent; p > 1; p = parents.TryGetValue(p, out var up) ? up.Parent : 0)
            {
                if (p == self)
                {
                    sum += ticks;
                    break;
                }
            }
        }
        return sum;
    }
}
