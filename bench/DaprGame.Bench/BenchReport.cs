using System.Globalization;
using System.Text.Json;

namespace DaprGame.Bench;

/// <summary>One measured row: an operation, how it was loaded, and its median figures over all runs.</summary>
internal sealed record BenchRow(
    string Operation,
    string Path,
    string Mode,
    double Throughput,
    double P50Ms,
    double P99Ms,
    double P999Ms,
    long AllocatedBytesPerOp,
    int Errors,
    double[] ThroughputRuns,
    double[] P99Runs);

/// <summary>A derived figure: an added latency or a ratio against the baseline measured in the same run, and its target.</summary>
internal sealed record BenchComparison(string Name, double Value, string Unit, string Target, bool? Met);

/// <summary>The result of one scenario: rows, comparisons, and the machine it ran on.</summary>
internal sealed class BenchReport(string scenario, BenchOptions options)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string Scenario { get; } = scenario;

    public List<BenchRow> Rows { get; } = [];

    public List<BenchComparison> Comparisons { get; } = [];

    public List<string> Notes { get; } = [];

    public void PrintTable(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"scenario {Scenario}: medians of {options.Runs} runs, {options.Duration.TotalSeconds:0.#} s each, {Environment.ProcessorCount} cores");
        output.WriteLine($"{"operation",-34} {"path",-10} {"mode",-14} {"ops/s",10} {"p50 ms",8} {"p99 ms",8} {"p99.9 ms",9} {"B/op",8} {"err",5}");
        foreach (var r in Rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Operation,-34} {r.Path,-10} {r.Mode,-14} {r.Throughput,10:0} {r.P50Ms,8:0.000} {r.P99Ms,8:0.000} {r.P999Ms,9:0.000} {r.AllocatedBytesPerOp,8} {r.Errors,5}"));
        }
        output.WriteLine();
        foreach (var c in Comparisons)
        {
            var verdict = c.Met switch { true => "met", false => "NOT MET", null => "" };
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{c.Name,-58} {c.Value,10:0.000} {c.Unit,-6} target {c.Target,-12} {verdict}"));
        }
        foreach (var n in Notes)
        {
            output.WriteLine("note: " + n);
        }
    }

    public string Save(string? path)
    {
        path ??= Path.Combine(FindBenchFolder(), "results", $"{Scenario}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var json = JsonSerializer.Serialize(new
        {
            scenario = Scenario,
            utc = DateTime.UtcNow,
            machine = new { cores = Environment.ProcessorCount, os = Environment.OSVersion.ToString(), runtime = Environment.Version.ToString() },
            options = new { runs = options.Runs, seconds = options.Duration.TotalSeconds, rate = options.Rate, workers = options.Workers },
            rows = Rows,
            comparisons = Comparisons,
            notes = Notes,
        }, JsonOptions);
        File.WriteAllText(path, json);
        return path;
    }

    private static string FindBenchFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DaprGame.sln")))
            {
                return Path.Combine(dir.FullName, "bench");
            }
        }
        return Path.Combine(Environment.CurrentDirectory, "bench");
    }

    public static BenchRow Median(string operation, string path, string mode, IReadOnlyList<LoadResult> runs)
    {
        static double Med(IEnumerable<double> xs)
        {
            var s = xs.Order().ToArray();
            return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
        }
        return new BenchRow(operation, path, mode,
            Med(runs.Select(r => r.Throughput)),
            Med(runs.Select(r => r.Latency.P50Ms)),
            Med(runs.Select(r => r.Latency.P99Ms)),
            Med(runs.Select(r => r.Latency.P999Ms)),
            (long)Med(runs.Select(r => (double)r.AllocatedBytesPerOp)),
            runs.Sum(r => r.Errors),
            [.. runs.Select(r => Math.Round(r.Throughput))],
            [.. runs.Select(r => Math.Round(r.Latency.P99Ms, 3))]);
    }
}
