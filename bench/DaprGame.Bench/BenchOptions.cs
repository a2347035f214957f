using System.Globalization;

namespace DaprGame.Bench;

/// <summary>Command-line options shared by every scenario.</summary>
internal sealed record BenchOptions(int Runs, TimeSpan Duration, int Rate, int Workers, string? OutputPath)
{
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
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return o;
    }
}
