using System.Diagnostics;

namespace DaprGame.Bench;

/// <summary>Result of one load phase.</summary>
internal sealed record LoadResult(double Throughput, LatencySummary Latency, int Errors, long AllocatedBytesPerOp);

/// <summary>
/// Two ways to load an operation. <see cref="FixedRateAsync"/> is open-loop: requests start on a schedule and
/// latency is measured from the scheduled start, so a stall is not hidden (no coordinated omission).
/// <see cref="SaturateAsync"/> is closed-loop with a fixed number of workers, for the highest throughput.
/// </summary>
internal static class Load
{
    public static async Task<LoadResult> FixedRateAsync(Func<CancellationToken, Task> operation, int ratePerSecond, TimeSpan duration, CancellationToken cancellationToken)
    {
        var recorder = new LatencyRecorder();
        var errors = 0;
        var total = (int)(ratePerSecond * duration.TotalSeconds);
        var interval = Stopwatch.Frequency / (double)ratePerSecond;
        var inflight = new List<Task>(total);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var scheduled = start + (long)(i * interval);
            while (Stopwatch.GetTimestamp() < scheduled)
            {
                var waitTicks = scheduled - Stopwatch.GetTimestamp();
                if (waitTicks > Stopwatch.Frequency / 500)
                {
                    await Task.Delay(1, cancellationToken);
                }
                else
                {
                    // Give the core to the servers under test instead of spinning on it: on a 2-core machine a
                    // busy-wait here steals the CPU the measured path needs and inflates its tail.
                    Thread.Yield();
                }
            }
            inflight.Add(RunOne(scheduled));
        }
        await Task.WhenAll(inflight);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        return new LoadResult(total / elapsed, recorder.Summarize(), errors, total == 0 ? 0 : allocated / total);

        async Task RunOne(long scheduled)
        {
            try
            {
                await operation(cancellationToken);
                recorder.Record(scheduled, Stopwatch.GetTimestamp());
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref errors);
            }
        }
    }

    public static async Task<LoadResult> SaturateAsync(Func<CancellationToken, Task> operation, int workers, TimeSpan duration, CancellationToken cancellationToken)
    {
        var recorder = new LatencyRecorder();
        var errors = 0;
        long completed = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var start = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await operation(cancellationToken);
                    recorder.Record(t0, Stopwatch.GetTimestamp());
                    Interlocked.Increment(ref completed);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        return new LoadResult(completed / elapsed, recorder.Summarize(), errors, completed == 0 ? 0 : allocated / completed);
    }
}
