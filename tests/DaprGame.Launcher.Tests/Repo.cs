using System.Diagnostics;

namespace DaprGame.Launcher.Tests;

/// <summary>The repository the tests run in: its root (where <c>dapr.yaml</c> is) and the built service hosts.</summary>
public static class Repo
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "dapr.yaml")) && File.Exists(Path.Combine(dir.FullName, "DaprGame.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no dapr.yaml + DaprGame.sln above {AppContext.BaseDirectory}");
    });

    private static readonly SemaphoreSlim BuildGate = new(1, 1);
    private static bool _built;

    public static string Root => RootPath.Value;

    public static string RunFile => Path.Combine(Root, "dapr.yaml");

    public static string Components(string name) => Path.Combine(Root, "components", name);

    /// <summary>
    /// Makes sure every service named in <c>dapr.yaml</c> has been built, since its command is <c>dotnet run --no-build</c>.
    /// A solution build leaves them in <c>artifacts/bin</c>; when one is missing it is built here, once, with a bound.
    /// </summary>
    public static async Task EnsureServicesBuiltAsync(IEnumerable<(string AppId, string AppDir)> apps, CancellationToken cancellationToken)
    {
        await BuildGate.WaitAsync(cancellationToken);
        try
        {
            if (_built)
            {
                return;
            }
            foreach (var (_, dir) in apps)
            {
                var project = Path.GetFileName(dir.TrimEnd(Path.DirectorySeparatorChar));
                var dll = Path.Combine(Root, "artifacts", "bin", project, "debug", project + ".dll");
                if (File.Exists(dll))
                {
                    continue;
                }
                using var build = Process.Start(new ProcessStartInfo("dotnet", ["build", "--nologo", "-v", "q", dir])
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                }) ?? throw new InvalidOperationException("could not start dotnet build");
                var output = build.StandardOutput.ReadToEndAsync(cancellationToken);
                try
                {
                    await build.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(10), cancellationToken);
                }
                catch (TimeoutException)
                {
                    build.Kill(entireProcessTree: true);
                    throw new TimeoutException($"dotnet build {dir} did not finish within 10 minutes");
                }
                if (build.ExitCode != 0)
                {
                    throw new InvalidOperationException($"dotnet build {dir} failed: {await output}");
                }
            }
            _built = true;
        }
        finally
        {
            BuildGate.Release();
        }
    }
}
