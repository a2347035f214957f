using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Launcher;

/// <summary>How to run a <see cref="RunFile"/>: replica counts, a component profile, where output goes.</summary>
public sealed class LaunchOptions
{
    /// <summary>Instances per app-id (default 1). Replicas get free ports and <c>APP_PORT</c>/<c>ASPNETCORE_URLS</c> overrides.</summary>
    public Dictionary<string, int> Replicas { get; } = new(StringComparer.Ordinal);

    /// <summary>A folder name under <c>components/</c> next to the run file; replaces every app's resources paths.</summary>
    public string? Profile { get; set; }

    /// <summary>Resources folders that replace every app's resources paths (wins over <see cref="Profile"/>).</summary>
    public IReadOnlyList<string>? ResourcesPaths { get; set; }

    /// <summary>Where prefixed app and sidecar lines go; must be thread-safe (see <see cref="TextWriter.Synchronized"/>).</summary>
    public TextWriter Output { get; set; } = TextWriter.Synchronized(Console.Out);

    /// <summary>Overrides every app's <c>logLevel</c> for the sidecars when set.</summary>
    public string? LogLevel { get; set; }

    /// <summary>How long every sidecar may take to report healthy (app started, app port open).</summary>
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long an app may take to exit after SIGTERM before its process tree is killed.</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(10);

    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>The registry all sidecars of this run share; a fresh in-process one by default.</summary>
    public IAppRegistry? Registry { get; set; }

    /// <summary>The environment apps inherit; the launcher's own process environment by default.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; set; }
}

/// <summary>Why a run ended: exit code for the CLI and the one-line reason, if any.</summary>
public sealed record LaunchOutcome(int ExitCode, string? Reason);

/// <summary>One started instance: its sidecar and, when the app has a command, its process.</summary>
public sealed class LaunchedApp
{
    public required string AppId { get; init; }

    public required int Replica { get; init; }

    /// <summary>The app-id, plus <c>[n]</c> for replicas: what output lines are prefixed with.</summary>
    public required string Label { get; init; }

    public int? AppPort { get; init; }

    public required SidecarHost Sidecar { get; init; }

    public AppProcess? Process { get; set; }
}

/// <summary>
/// Runs a multi-app template in-process, as <c>dapr run -f</c> does with daprd: for each app (and replica) a local
/// sidecar plus the app's command as a child process with the Dapr CLI's environment; waits until every sidecar is
/// healthy; when an app exits, reports <c>app &lt;id&gt; exited with code N</c> and stops the rest. Stopping stops
/// apps first, then sidecars. All sidecars share one registry, so service invocation works between them.
/// </summary>
public sealed class MultiAppLauncher : IAsyncDisposable
{
    private readonly LaunchOptions _options;
    private readonly List<LaunchedApp> _apps = [];
    private readonly TaskCompletionSource<LaunchOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _stopGate = new(1, 1);
    private readonly List<ILoggerFactory> _loggers = [];

    // Every sidecar of one run shares the in-memory broker: they live in this one process, and the embedded profile
    // must carry events from one service to another (chat → gateway push).
    private readonly PubSub.InMemoryBroker _broker = new();
    private bool _stopped;

    private MultiAppLauncher(LaunchOptions options) => _options = options;

    public IReadOnlyList<LaunchedApp> Apps => _apps;

    /// <summary>Completes when the run ends: an app exited (non-zero outcome) or <see cref="StopAsync"/> was called (zero).</summary>
    public Task<LaunchOutcome> Completion => _completion.Task;

    /// <summary>Starts everything and returns once every sidecar answers <c>/v1.0/healthz</c> with 204.</summary>
    public static async Task<MultiAppLauncher> StartAsync(RunFile file, LaunchOptions options, CancellationToken cancellationToken = default)
    {
        var launcher = new MultiAppLauncher(options);
        try
        {
            await launcher.StartAllAsync(file, cancellationToken);
            return launcher;
        }
        catch
        {
            await launcher.StopAsync();
            throw;
        }
    }

    private async Task StartAllAsync(RunFile file, CancellationToken cancellationToken)
    {
        var registry = _options.Registry ?? new InProcessAppRegistry();
        var parentEnv = _options.Environment ?? ProcessEnvironment();
        var profilePaths = _options.ResourcesPaths;
        if (profilePaths is null && _options.Profile is { } profile)
        {
            var dir = Path.Combine(file.Directory, "components", profile);
            profilePaths = Directory.Exists(dir) ? [dir] : throw new LaunchException($"profile '{profile}': folder {dir} does not exist");
        }
        foreach (var (appId, _) in _options.Replicas)
        {
            if (!file.Apps.Any(a => a.AppId == appId))
            {
                throw new LaunchException($"--replicas names app '{appId}', which {file.FilePath} does not define");
            }
        }

        // Sidecars first (each waits for its app port, as daprd does), then the apps.
        foreach (var app in file.Apps)
        {
            var replicas = _options.Replicas.GetValueOrDefault(app.AppId, 1);
            for (var r = 0; r < replicas; r++)
            {
                _apps.Add(await StartSidecarAsync(app, r, replicas, profilePaths, registry, parentEnv, cancellationToken));
            }
        }
        foreach (var launched in _apps)
        {
            var app = file.Apps.First(a => a.AppId == launched.AppId);
            if (app.Command.Count > 0)
            {
                launched.Process = AppProcess.Start(app.Command, app.AppDirPath, AppEnvironment(app, launched, parentEnv), _options.Output, $"== APP - {launched.Label} ==");
            }
        }

        var exits = _apps.Where(a => a.Process is not null).Select(a => Exit(a)).ToList();
        var anyExit = exits.Count == 0 ? new TaskCompletionSource<LaunchedApp>().Task : Task.WhenAny(exits).Unwrap();
        var ready = Task.WhenAll(_apps.Select(a => a.Sidecar.Ready));
        var timeout = Task.Delay(_options.ReadyTimeout, _options.Time, cancellationToken);
        var first = await Task.WhenAny(ready, anyExit, timeout);
        if (first == anyExit)
        {
            var dead = await anyExit;
            throw new LaunchException($"app {dead.Label} exited with code {await dead.Process!.Exited} before its sidecar was healthy");
        }
        if (first == timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var waiting = string.Join(", ", _apps.Where(a => !a.Sidecar.Ready.IsCompleted).Select(a => a.Label));
            throw new LaunchException($"timed out after {_options.ReadyTimeout.TotalSeconds:0}s waiting for the sidecars of {waiting} to become healthy (is the app listening on its app port?)");
        }
        await ready;
        await CheckHealthAsync(cancellationToken);
        _options.Output.WriteLine($"== LAUNCHER == all {_apps.Count} sidecars healthy: {string.Join(", ", _apps.Select(a => $"{a.Label} (http {a.Sidecar.HttpPort}, grpc {a.Sidecar.GrpcPort}, app {a.AppPort?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"})"))}");
        _ = WatchAsync(anyExit);
    }

    private static async Task<LaunchedApp> Exit(LaunchedApp app)
    {
        await app.Process!.Exited;
        return app;
    }

    private async Task<LaunchedApp> StartSidecarAsync(RunApp app, int replica, int replicas, IReadOnlyList<string>? profilePaths,
        IAppRegistry registry, IReadOnlyDictionary<string, string> parentEnv, CancellationToken cancellationToken)
    {
        var label = replicas > 1 ? $"{app.AppId}[{replica}]" : app.AppId;
        var appPort = replicas > 1 && app.AppPort is not null ? SidecarHost.FreePort() : app.AppPort;
        var options = new SidecarOptions
        {
            AppId = app.AppId,
            AppPort = appPort,
            AppChannelAddress = string.IsNullOrEmpty(app.AppChannelAddress) ? "127.0.0.1" : app.AppChannelAddress,
            AppProtocol = app.AppProtocol,
            HttpPort = replicas > 1 ? 0 : app.DaprHttpPort ?? 0,
            GrpcPort = replicas > 1 ? 0 : app.DaprGrpcPort ?? 0,
            ConfigPath = app.ConfigFilePath,
            LogLevel = _options.LogLevel ?? app.LogLevel,
            // daprd reads its tokens from its own environment, which the CLI does not change (contract §6.2).
            ApiToken = parentEnv.GetValueOrDefault("DAPR_API_TOKEN"),
            AppApiToken = parentEnv.GetValueOrDefault("APP_API_TOKEN"),
            WorkingDirectory = app.AppDirPath,
            EnableAppHealthCheck = app.EnableAppHealthCheck,
            AppHealthCheckPath = app.AppHealthCheckPath,
            AppHealthProbeInterval = TimeSpan.FromSeconds(Math.Max(1, app.AppHealthProbeIntervalSeconds)),
            Environment = parentEnv,
        };
        options.ResourcesPaths.AddRange(profilePaths ?? app.ResourcesPaths);
        LogLevel level;
        try
        {
            level = PrefixedLoggerProvider.ParseLevel(options.LogLevel);
        }
        catch (ArgumentException e)
        {
            throw new LaunchException($"app {app.AppId}: {e.Message}");
        }
        var logging = PrefixedLoggerProvider.CreateFactory(_options.Output, $"== DAPR - {label} ==", level);
        _loggers.Add(logging);
        try
        {
            var host = await SidecarHost.StartAsync(options, new SidecarEnvironment { Time = _options.Time, Logging = logging, Registry = registry, InMemoryBroker = _broker }, cancellationToken);
            return new LaunchedApp { AppId = app.AppId, Replica = replica, Label = label, AppPort = appPort, Sidecar = host };
        }
        catch (Components.ResourceException e)
        {
            throw new LaunchException($"app {app.AppId}: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new LaunchException($"app {app.AppId}: {e.Message}");
        }
    }

    /// <summary>The Dapr CLI's app environment (contract §6.2), plus the port overrides a replica needs.</summary>
    private static Dictionary<string, string> AppEnvironment(RunApp app, LaunchedApp launched, IReadOnlyDictionary<string, string> parentEnv)
    {
        var env = new Dictionary<string, string>(parentEnv, StringComparer.Ordinal);
        foreach (var (k, v) in app.Env)
        {
            env[k] = v;
        }
        env["APP_ID"] = app.AppId;
        env["APP_PROTOCOL"] = app.AppProtocol;
        env["APP_CHANNEL_ADDRESS"] = app.AppChannelAddress ?? "";
        env["DAPR_HTTP_PORT"] = launched.Sidecar.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["DAPR_GRPC_PORT"] = launched.Sidecar.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (launched.AppPort is { } port)
        {
            env["APP_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (port != app.AppPort)
            {
                env["ASPNETCORE_URLS"] = $"http://localhost:{port}";
            }
        }
        return env;
    }

    private static Dictionary<string, string> ProcessEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value ?? "";
        }
        return env;
    }

    private async Task CheckHealthAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        foreach (var app in _apps)
        {
            using var response = await http.GetAsync(new Uri($"{app.Sidecar.HttpEndpoint}/v1.0/healthz"), cancellationToken);
            if (response.StatusCode != System.Net.HttpStatusCode.NoContent)
            {
                throw new LaunchException($"the sidecar of {app.Label} reports {(int)response.StatusCode} on /v1.0/healthz: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
        }
    }

    private async Task WatchAsync(Task<LaunchedApp> anyExit)
    {
        var dead = await anyExit;
        if (_stopped)
        {
            return;
        }
        var code = await dead.Process!.Exited;
        var reason = $"app {dead.Label} exited with code {code}";
        _options.Output.WriteLine($"== LAUNCHER == {reason}; stopping the other apps");
        await StopWithAsync(new LaunchOutcome(code == 0 ? 1 : code, reason));
    }

    /// <summary>Stops every app (SIGTERM, then kill after the grace period), then every sidecar.</summary>
    public Task StopAsync() => StopWithAsync(new LaunchOutcome(0, null));

    private async Task StopWithAsync(LaunchOutcome outcome)
    {
        await _stopGate.WaitAsync();
        try
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
            await Task.WhenAll(_apps.Where(a => a.Process is not null).Select(a => a.Process!.StopAsync(_options.StopGrace, _options.Time)));
            foreach (var app in Enumerable.Reverse(_apps))
            {
                await app.Sidecar.DisposeAsync();
                app.Process?.Dispose();
            }
            foreach (var l in _loggers)
            {
                l.Dispose();
            }
            _completion.TrySetResult(outcome);
        }
        finally
        {
            _stopGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopGate.Dispose();
    }
}
