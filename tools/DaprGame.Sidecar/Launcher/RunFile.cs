namespace DaprGame.Sidecar.Launcher;

/// <summary>
/// A Dapr CLI multi-app run template (<c>dapr run -f dapr.yaml</c>), read with the CLI's rules: common values are
/// defaults an app overrides, paths are resolved (see <see cref="RunFileParser"/>), so the launcher and real Dapr
/// start the same system from the same file.
/// </summary>
public sealed class RunFile
{
    public required string FilePath { get; init; }

    public int Version { get; init; }

    public string? Name { get; init; }

    public required IReadOnlyList<RunApp> Apps { get; init; }

    /// <summary>The folder holding the file: the base of every relative path in <c>common</c> and of <c>appDirPath</c>.</summary>
    public string Directory => System.IO.Path.GetDirectoryName(FilePath)!;
}

/// <summary>One entry of <c>apps:</c>, with <c>common</c> merged in and every path absolute.</summary>
public sealed class RunApp
{
    public required string AppId { get; init; }

    public required string AppDirPath { get; init; }

    public int? AppPort { get; init; }

    public string? AppChannelAddress { get; init; }

    public int? DaprHttpPort { get; init; }

    public int? DaprGrpcPort { get; init; }

    /// <summary>The app's argv; empty means a sidecar without an app process.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary><c>common.env</c> merged with the app's own <c>env</c> (the app wins).</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> ResourcesPaths { get; init; } = [];

    public string? ConfigFilePath { get; init; }

    public string AppProtocol { get; init; } = "http";

    public bool EnableAppHealthCheck { get; init; }

    public string AppHealthCheckPath { get; init; } = "/healthz";

    public int AppHealthProbeIntervalSeconds { get; init; } = 5;

    public string LogLevel { get; init; } = "info";
}
