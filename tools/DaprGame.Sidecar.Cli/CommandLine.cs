using System.Globalization;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.Launcher;

namespace DaprGame.Sidecar.Cli;

/// <summary>
/// The <c>daprgame-sidecar</c> command line. Without a subcommand it is one sidecar taking daprd's flags (single or
/// double dash, <c>--flag value</c> or <c>--flag=value</c>); <c>run -f dapr.yaml</c> is the multi-app launcher.
/// Bad input ends with exit code 1 and one <c>error: …</c> line on stderr. Kept out of <c>Program.cs</c> so tests
/// call it in-process.
/// </summary>
public static class CommandLine
{
    public const string Usage = """
        usage: daprgame-sidecar --app-id ID [--app-port N] [--dapr-http-port N] [--dapr-grpc-port N]
                                [--resources-path DIR]... [--config FILE] [--log-level debug|info|warn|error] [...daprd flags]
               daprgame-sidecar run [-f dapr.yaml] [--profile local|redis|postgres] [--replicas APP=N]... [--no-build] [--log-level L]
        """;

    /// <summary>daprd flags that only concern real daprd's surroundings (metrics, placement, profiling); accepted and ignored.</summary>
    private static readonly HashSet<string> IgnoredFlags = new(StringComparer.Ordinal)
    {
        "metrics-port", "enable-metrics", "scheduler-host-address", "dapr-internal-grpc-port",
        "enable-api-logging", "enable-profiling", "profile-port", "app-health-probe-timeout", "app-health-threshold",
        "dapr-graceful-shutdown-seconds", "mode", "dapr-listen-addresses", "control-plane-address", "sentry-address",
    };

    private static readonly HashSet<string> BoolFlags = new(StringComparer.Ordinal)
    {
        "enable-app-health-check", "enable-metrics", "enable-api-logging", "enable-profiling", "no-build", "help",
    };

    /// <summary>daprd flags the local sidecar does not implement: refused by name.</summary>
    private static readonly Dictionary<string, string> RefusedFlags = new(StringComparer.Ordinal)
    {
        ["unix-domain-socket"] = "unix domain sockets are not implemented by the local sidecar",
        ["app-ssl"] = "TLS to the app is not implemented by the local sidecar",
        ["app-max-concurrency"] = "app max concurrency is not implemented by the local sidecar",
        ["dapr-http-max-request-size"] = "the request size limit is fixed at 4Mi in the local sidecar",
        ["max-body-size"] = "the request size limit is fixed at 4Mi in the local sidecar",
        ["enable-mtls"] = "mTLS is not implemented by the local sidecar",
    };

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        try
        {
            if (args.Length > 0 && args[0] == "run")
            {
                return await RunFileAsync(Parse(args[1..]), stdout, stop);
            }
            return await SidecarAsync(Parse(args), stdout, stop);
        }
        catch (Exception e) when (e is UsageException or LaunchException or ResourceException or ArgumentException or IOException)
        {
            await stderr.WriteLineAsync($"error: {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
    }

    private static async Task<int> SidecarAsync(Flags flags, TextWriter stdout, CancellationToken stop)
    {
        if (flags.Has("help"))
        {
            await stdout.WriteLineAsync(Usage);
            return 0;
        }
        var options = new SidecarOptions
        {
            AppId = flags.One("app-id") ?? throw new UsageException("--app-id is required"),
            AppPort = flags.Int("app-port"),
            AppProtocol = flags.One("app-protocol") ?? "http",
            HttpPort = flags.Int("dapr-http-port") ?? 3500,
            GrpcPort = flags.Int("dapr-grpc-port") ?? 50001,
            ConfigPath = flags.One("config"),
            LogLevel = flags.One("log-level") ?? "info",
            ApiToken = Environment.GetEnvironmentVariable("DAPR_API_TOKEN"),
            AppApiToken = Environment.GetEnvironmentVariable("APP_API_TOKEN"),
            EnableAppHealthCheck = flags.Has("enable-app-health-check"),
            AppHealthCheckPath = flags.One("app-health-check-path") ?? "/healthz",
            PlacementHostAddress = flags.One("placement-host-address"),
        };
        if (options.AppProtocol != "http")
        {
            throw new UsageException($"--app-protocol {options.AppProtocol} is not implemented by the local sidecar (only http)");
        }
        if (flags.One("app-channel-address") is { } address)
        {
            options.AppChannelAddress = address;
        }
        if (flags.Int("app-health-probe-interval") is { } interval)
        {
            options.AppHealthProbeInterval = TimeSpan.FromSeconds(interval);
        }
        options.ResourcesPaths.AddRange(flags.Many("resources-path").Concat(flags.Many("components-path")).Select(Path.GetFullPath));
        if (options.ResourcesPaths.Count == 0)
        {
            // daprd's self-hosted default.
            var home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dapr", "components");
            if (Directory.Exists(home))
            {
                options.ResourcesPaths.Add(home);
            }
        }
        flags.RejectUnknown();
        var level = LevelOf(options.LogLevel);

        using var logging = PrefixedLoggerProvider.CreateFactory(stdout, "", level);
        var environment = new SidecarEnvironment { Logging = logging, Registry = new FileAppRegistry(FileAppRegistry.DefaultFolder()) };
        await using var host = await SidecarHost.StartAsync(options, environment, stop);
        await stdout.WriteLineAsync($"level=info msg=\"dapr initialized. app-id {options.AppId}, HTTP port {host.HttpPort}, gRPC port {host.GrpcPort}\"");
        using var both = CancellationTokenSource.CreateLinkedTokenSource(stop, host.ShutdownRequested);
        var stopped = Task.Delay(Timeout.Infinite, both.Token);
        if (await Task.WhenAny(host.Ready, stopped) == host.Ready && host.Ready.Exception?.InnerException is ResourceException startup)
        {
            // A start-up error found once the app answered (actors without an actor state store): daprd exits on it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(startup);
        }
        try
        {
            await stopped;
        }
        catch (OperationCanceledException)
        {
        }
        await stdout.WriteLineAsync("level=info msg=\"stop command issued. Shutting down all operations\"");
        return 0;
    }

    private static async Task<int> RunFileAsync(Flags flags, TextWriter stdout, CancellationToken stop)
    {
        if (flags.Has("help"))
        {
            await stdout.WriteLineAsync(Usage);
            return 0;
        }
        var path = flags.One("f") ?? flags.One("file") ?? flags.One("run-file") ?? "dapr.yaml";
        var options = new LaunchOptions { Output = stdout, Profile = flags.One("profile"), LogLevel = flags.One("log-level") };
        if (options.LogLevel is { } l)
        {
            LevelOf(l);
        }
        foreach (var spec in flags.Many("replicas").SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !int.TryParse(spec[(eq + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                throw new UsageException($"--replicas expects APP=N with N >= 1, not '{spec}'");
            }
            options.Replicas[spec[..eq]] = n;
        }
        if (flags.Int("ready-timeout") is { } seconds)
        {
            options.ReadyTimeout = TimeSpan.FromSeconds(seconds);
        }
        var build = !flags.Has("no-build");
        // Accepted and ignored, as before: the sidecars of one run share placement in process.
        _ = flags.One("placement-host-address");
        flags.RejectUnknown();

        var file = RunFileParser.Load(path);
        if (build && await BuildAsync(file.Directory, stdout, stop) is var code and not 0)
        {
            throw new LaunchException($"dotnet build in {file.Directory} failed with exit code {code}");
        }
        await using var launcher = await MultiAppLauncher.StartAsync(file, options, stop);
        try
        {
            var outcome = await launcher.Completion.WaitAsync(stop);
            return outcome.ExitCode;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            stdout.WriteLine("== LAUNCHER == stopping: apps first, then sidecars");
            await launcher.StopAsync();
            return 0;
        }
    }

    private static async Task<int> BuildAsync(string directory, TextWriter stdout, CancellationToken stop)
    {
        using var build = AppProcess.Start(["dotnet", "build", "--nologo", "-v", "q"], directory, new Dictionary<string, string>(), stdout, "== BUILD ==");
        try
        {
            return await build.Exited.WaitAsync(stop);
        }
        catch (OperationCanceledException)
        {
            build.KillTree();
            throw;
        }
    }

    private static Microsoft.Extensions.Logging.LogLevel LevelOf(string level)
    {
        try
        {
            return PrefixedLoggerProvider.ParseLevel(level);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--log-level: {e.Message}");
        }
    }

    private static Flags Parse(string[] args)
    {
        var flags = new Flags();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-" || arg == "--")
            {
                throw new UsageException($"unexpected argument '{arg}'\n{Usage}");
            }
            var name = arg.TrimStart('-');
            string? value = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            if (name == "h")
            {
                name = "help";
            }
            if (RefusedFlags.TryGetValue(name, out var why))
            {
                throw new UsageException($"--{name}: {why}");
            }
            if (BoolFlags.Contains(name))
            {
                value ??= "true";
                if (!bool.TryParse(value, out var on))
                {
                    throw new UsageException($"--{name} takes true or false, not '{value}'");
                }
                if (on)
                {
                    flags.Add(name, "true");
                }
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Length)
                {
                    throw new UsageException($"--{name} needs a value");
                }
                value = args[++i];
            }
            if (!IgnoredFlags.Contains(name))
            {
                flags.Add(name, value);
            }
        }
        return flags;
    }

    /// <summary>Parsed flags; every lookup marks the flag as known so leftovers can be reported as unknown.</summary>
    private sealed class Flags
    {
        private readonly List<(string Name, string Value)> _all = [];
        private readonly HashSet<string> _known = new(StringComparer.Ordinal);

        public void Add(string name, string value) => _all.Add((name, value));

        public bool Has(string name)
        {
            _known.Add(name);
            return _all.Any(f => f.Name == name);
        }

        public string? One(string name)
        {
            _known.Add(name);
            var values = _all.Where(f => f.Name == name).ToList();
            return values.Count switch
            {
                0 => null,
                1 => values[0].Value,
                _ => throw new UsageException($"--{name} is given more than once"),
            };
        }

        public List<string> Many(string name)
        {
            _known.Add(name);
            return _all.Where(f => f.Name == name).Select(f => f.Value).ToList();
        }

        public int? Int(string name) => One(name) is { } text
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new UsageException($"--{name} takes a number, not '{text}'")
            : null;

        public void RejectUnknown()
        {
            foreach (var (name, _) in _all)
            {
                if (!_known.Contains(name))
                {
                    throw new UsageException($"unknown flag --{name}");
                }
            }
        }
    }

    private sealed class UsageException(string message) : Exception(message);
}
