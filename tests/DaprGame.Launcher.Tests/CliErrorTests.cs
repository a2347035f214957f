using DaprGame.Sidecar.Cli;

namespace DaprGame.Launcher.Tests;

/// <summary>Bad input through the <c>daprgame-sidecar</c> entry point: exit code 1 and exactly one clear line on stderr.</summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("daprgame-cli-");

    public void Dispose() => _folder.Delete(recursive: true);

    private static async Task<(int Code, string Error)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CommandLine.RunAsync(args, TextWriter.Synchronized(stdout), stderr, TestContext.Current.CancellationToken);
        return (code, stderr.ToString());
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder.FullName, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static string OneLine(string error)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        return lines[0];
    }

    private static Task<(int Code, string Error)> SidecarAsync(string resources) =>
        RunAsync("--app-id", "bad", "--dapr-http-port", "0", "--dapr-grpc-port", "0", "--resources-path", resources);

    [Fact]
    public async Task Malformed_component_yaml_names_the_file_and_the_position()
    {
        var file = Write("components/broken.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: [name: x\nspec: {}\n");

        var (code, error) = await SidecarAsync(Path.GetDirectoryName(file)!);

        Assert.Equal(1, code);
        var line = OneLine(error);
        Assert.Contains(file, line, StringComparison.Ordinal);
        Assert.Contains("malformed YAML", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_component_type_is_refused_by_name()
    {
        var file = Write("components/state.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.foo\n  version: v1\n  metadata: []\n");

        var (code, error) = await SidecarAsync(Path.GetDirectoryName(file)!);

        Assert.Equal(1, code);
        var line = OneLine(error);
        Assert.Contains(file, line, StringComparison.Ordinal);
        Assert.Contains("unknown component type 'state.foo'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_kafka_profile_pubsub_is_refused_as_real_dapr_only()
    {
        File.Copy(Path.Combine(Repo.Components("kafka"), "pubsub.yaml"), Write("components/pubsub.yaml", ""), overwrite: true);

        var (code, error) = await SidecarAsync(Path.Combine(_folder.FullName, "components"));

        Assert.Equal(1, code);
        Assert.Contains("pubsub.kafka runs on real Dapr only", OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_file_naming_a_missing_app_directory_names_the_app()
    {
        var runFile = Write("dapr.yaml", "version: 1\napps:\n  - appID: ghost\n    appDirPath: ./services/ghost\n    command: [\"dotnet\", \"run\"]\n");

        var (code, error) = await RunAsync("run", "-f", runFile, "--no-build");

        Assert.Equal(1, code);
        var line = OneLine(error);
        Assert.Contains(runFile, line, StringComparison.Ordinal);
        Assert.Contains("apps[0].appDirPath: app 'ghost': directory './services/ghost' does not exist", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_run_file_field_is_named()
    {
        Directory.CreateDirectory(Path.Combine(_folder.FullName, "svc"));
        var runFile = Write("dapr.yaml", "version: 1\napps:\n  - appDirPath: ./svc\n    appId: svc\n");

        var (code, error) = await RunAsync("run", "-f", runFile, "--no-build");

        Assert.Equal(1, code);
        Assert.Contains("apps[0].appId: unknown field (did you mean 'appID'?)", OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_run_file_names_the_position()
    {
        var runFile = Write("dapr.yaml", "version: 1\napps: [\n");

        var (code, error) = await RunAsync("run", "-f", runFile, "--no-build");

        Assert.Equal(1, code);
        Assert.Contains("malformed YAML at line", OneLine(error), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("grpc", "--app-protocol grpc is not implemented by the local sidecar (only http)")]
    [InlineData("h2c", "--app-protocol h2c is not implemented by the local sidecar (only http)")]
    public async Task Other_app_protocols_are_refused(string protocol, string message)
    {
        var (code, error) = await RunAsync("--app-id", "x", "--app-protocol", protocol);

        Assert.Equal(1, code);
        Assert.Equal($"error: {message}", OneLine(error).TrimEnd());
    }

    [Fact]
    public async Task An_unknown_flag_is_named()
    {
        var (code, error) = await RunAsync("--app-id", "x", "--dapr-htp-port", "1");

        Assert.Equal(1, code);
        Assert.Equal("error: unknown flag --dapr-htp-port", OneLine(error).TrimEnd());
    }
}
