using System.Diagnostics;

namespace DaprGame.Bench;

/// <summary>Collects latencies in microseconds and reports percentiles. One per measured series; thread-safe.</summary>
internal sealed class LatencyRecorder
{
    private readonly List<double> _micros = new(capacity: 1 << 16);
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _micros.Count;
            }
        }
    }

    public void Record(long startTimestamp, long endTimestamp)
    {
        var us = (endTimestamp - startTimestamp) * 1_000_000.0 / Stopwatch.Frequency;
        lock (_gate)
        {
            _micros.Add(us);
        }
    }

    public LatencySummary Summarize()
    {
        double[] sorted;
        lock (_gate)
        {
            sorted = [.. _micros];
        }
        Array.Sort(sorted);
        return new LatencySummary(sorted.Length, At(sorted, 0.50), At(sorted, 0.99), At(sorted, 0.999));
    }

    private static double At(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)] / 1000.0;
}

/// <summary>Percentiles in milliseconds.</summary>
internal sealed record LatencySummary(int Count, double P50Ms, double P99Ms, double P999Ms);
