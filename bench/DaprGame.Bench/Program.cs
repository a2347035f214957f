using DaprGame.Bench;

// One command per scenario: `dotnet run -c Release --project bench/DaprGame.Bench -- <scenario> [options]`.
var scenarios = new Dictionary<string, Func<BenchOptions, Task<BenchReport>>>(StringComparer.OrdinalIgnoreCase)
{
    ["sidecar"] = SidecarScenario.RunAsync,
    ["actors"] = ActorsScenario.RunAsync,
    ["chat-fanout"] = ChatFanoutScenario.RunAsync,
    ["trading-engine"] = TradingEngineScenario.RunAsync,
    ["trading"] = TradingScenario.RunAsync,
    ["combat-sim"] = CombatSimScenario.RunAsync,
    ["combat"] = CombatScenario.RunAsync,
    ["persistence"] = PersistenceScenario.RunAsync,
};

if (args.Length == 0 || !scenarios.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: DaprGame.Bench <{string.Join('|', scenarios.Keys)}> [--runs N] [--seconds S] [--rate R] [--workers W] [--filter text] [--out file.json]");
    return 2;
}

var options = BenchOptions.Parse(args[1..]);
var report = await run(options);
report.PrintTable(Console.Out);
var path = report.Save(options.OutputPath);
Console.WriteLine($"result written to {path}");
return 0;
