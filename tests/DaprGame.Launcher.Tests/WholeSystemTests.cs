using System.Diagnostics;
using System.Net;
using DaprGame.Sidecar;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Launcher;

namespace DaprGame.Launcher.Tests;

/// <summary>
/// The whole backend started from the repository's real <c>dapr.yaml</c> through the in-process launcher: five
/// service hosts as child processes (<c>dotnet run --no-build</c>), five sidecars. One class, so runs never overlap
/// on the file's fixed app ports.
/// </summary>
public sealed class WholeSystemTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);
    private readonly StringWriter _log = new();
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("daprgame-launch-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        TestContext.Current.SendDiagnosticMessage(_log.ToString());
        _scratch.Delete(recursive: true);
        _log.Dispose();
    }

    private async Task<MultiAppLauncher> StartAsync(LaunchOptions options)
    {
        var file = RunFileParser.Load(Repo.RunFile);
        await Repo.EnsureServicesBuiltAsync(file.Apps.Select(a => (a.AppId, a.AppDirPath)), Ct);
        options.Output = TextWriter.Synchronized(_log);
        options.ReadyTimeout = Bound;
        return await MultiAppLauncher.StartAsync(file, options, Ct);
    }

    private static async Task AssertEveryAppHealthyAsync(MultiAppLauncher launcher)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var gateway = launcher.Apps.Single(a => a.AppId == "gateway").Sidecar;
        foreach (var app in launcher.Apps)
        {
            using var health = await http.GetAsync(new Uri($"{app.Sidecar.HttpEndpoint}/v1.0/healthz"), Ct);
            Assert.Equal(HttpStatusCode.NoContent, health.StatusCode);
            // And the app itself answers, reached from another app's sidecar by service invocation.
            using var live = await http.GetAsync(new Uri($"{gateway.HttpEndpoint}/v1.0/invoke/{app.AppId}/method/healthz"), Ct);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
    }

    [Fact]
    public async Task The_backend_runs_from_dapr_yaml_and_a_killed_app_is_reported_with_its_exit_code()
    {
        // The run file's own profile (components/local) needs state.sqlite, covered by the next test; this one swaps
        // in in-memory components through the launcher's resources override so it exercises the launcher alone.
        await File.WriteAllTextAsync(Path.Combine(_scratch.FullName, "components.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.in-memory
              version: v1
              metadata:
              - name: actorStateStore
                value: "true"
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
              metadata: []
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: broadcast
            spec:
              type: pubsub.in-memory
              version: v1
              metadata:
              - name: consumerID
                value: "{podName}"
            """, Ct);
        await using var launcher = await StartAsync(new LaunchOptions { ResourcesPaths = [_scratch.FullName] });

        Assert.Equal(5, launcher.Apps.Count);
        await AssertEveryAppHealthyAsync(launcher);

        var chat = launcher.Apps.Single(a => a.AppId == "chat");
        using (var process = Process.GetProcessById(chat.Process!.ProcessId))
        {
            process.Kill(entireProcessTree: true);
        }
        var outcome = await launcher.Completion.WaitAsync(Bound, Ct);

        var expected = OperatingSystem.IsWindows() ? -1 : 137;
        Assert.Equal($"app chat exited with code {expected}", outcome.Reason);
        Assert.Equal(expected, outcome.ExitCode);
        Assert.Contains($"== LAUNCHER == app chat exited with code {expected}", _log.ToString(), StringComparison.Ordinal);
        Assert.Contains("== APP - gateway ==", _log.ToString(), StringComparison.Ordinal);
        Assert.All(launcher.Apps, a => Assert.True(a.Process!.Exited.IsCompleted, $"{a.Label} still running after the launcher stopped"));
    }

    [Fact]
    public async Task The_backend_runs_on_the_local_profile()
    {
        await using var launcher = await StartAsync(new LaunchOptions());

        await AssertEveryAppHealthyAsync(launcher);
        await launcher.StopAsync();
        Assert.Equal(0, (await launcher.Completion).ExitCode);
    }
}
