using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace DaprGame.Combat.Domain.Tests;

/// <summary>
/// A second entry point into this test assembly: <c>dotnet exec DaprGame.Combat.Domain.Tests.dll --combat-replay
/// log…</c> replays each log file in a fresh process and prints "path ticks final-hash hash-of-hashes" per line,
/// then exits before the test platform starts. Without the flag it does nothing.
/// </summary>
internal static class ReplayEntryPoint
{
    public const string Flag = "--combat-replay";

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "The test assembly is an executable; this is its replay mode for the cross-process determinism test.")]
    public static void RunIfAsked()
    {
        var args = Environment.GetCommandLineArgs();
        var at = Array.IndexOf(args, Flag);
        if (at < 0)
        {
            return;
        }
        foreach (var path in args.Skip(at + 1))
        {
            var report = Replays.Verify(File.ReadAllBytes(path));
            Console.Out.WriteLine($"{path} {report.Ticks} {report.FinalHash:x16} {DeterminismTests.HashOfHashes(report.Hashes):x16}");
        }
        Console.Out.Flush();
        Environment.Exit(0);
    }
}
