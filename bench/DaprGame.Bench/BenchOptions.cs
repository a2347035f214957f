using System.Globalization;

namespace DaprGame.Bench;

/// <summary>Command-line options shared by every scenario.</summary>
/// <param name="Filter">Only operations whose name contains this text are measured (all when null).</param>
internal sealed record BenchOptions(int Runs, TimeSpan Duration, int Rate, int Workers, string? OutputPath, string? Filter = null)
{
    public bool Includes(string operation) => Filter is null || operation.Contains(Filter, StringComparison.OrdinalIgnoreCase);

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions(Runs: 3, Duration: TimeSpan.FromSeconds(5), Rate: 1000, Workers: 32, OutputPath: null);
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            var value = args[i + 1];
            o = args[i] switch
            {
                "--runs" => o with { Runs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seconds" => o with { Duration = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) },
                "--rate" => o with { Rate = int.Parse(value, CultureInfo.InvariantCulture) },
                "--workers" => o with { Workers = int.Parse(value, CultureInfo.InvariantCulture) },
                "--out" => o with { OutputPath = value },
                "--filter" => o with { Filter = value },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return o;
    }
}
