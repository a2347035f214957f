using Dapr.Client;
using DaprGame.Sidecar;
using DaprGame.Sidecar.Hosting;

namespace DaprGame.Testing;

/// <summary>
/// An in-process local sidecar on free loopback ports, with its resources written to a private temporary folder,
/// and a <see cref="DaprClient"/> pointed at it. Dispose stops it and deletes the folder.
/// </summary>
public sealed class TestSidecar : IAsyncDisposable
{
    private readonly string _folder;

    private TestSidecar(SidecarHost host, string folder, DaprClient client)
    {
        Host = host;
        _folder = folder;
        Client = client;
    }

    public SidecarHost Host { get; }

    /// <summary>A client speaking to this sidecar exactly as an app would (gRPC for state and publish, HTTP for invoke).</summary>
    public DaprClient Client { get; }

    public string ResourcesFolder => _folder;

    /// <summary>
    /// Starts a sidecar for <paramref name="appId"/> with the given resource files (name → YAML text).
    /// <paramref name="configure"/> may set more options (app port, tokens).
    /// </summary>
    public static async Task<TestSidecar> StartAsync(
        string appId,
        IReadOnlyDictionary<string, string> resources,
        Action<SidecarOptions>? configure = null,
        SidecarEnvironment? environment = null,
        string? apiToken = null)
    {
        var folder = Directory.CreateTempSubdirectory("daprgame-sidecar-").FullName;
        foreach (var (name, yaml) in resources)
        {
            await File.WriteAllTextAsync(Path.Combine(folder, name), yaml);
        }
        var options = new SidecarOptions { AppId = appId, HttpPort = 0, GrpcPort = 0, ApiToken = apiToken, WorkingDirectory = folder };
        options.ResourcesPaths.Add(folder);
        configure?.Invoke(options);
        SidecarHost host;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                host = await SidecarHost.StartAsync(options, environment);
                break;
            }
            catch (IOException e) when (attempt < 3 && options.HttpPort == 0 && options.GrpcPort == 0
                && e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // The free ports the host picked were taken by another process before it bound them: pick again.
            }
            catch
            {
                Directory.Delete(folder, recursive: true);
                throw;
            }
        }
        var client = new DaprClientBuilder()
            .UseHttpEndpoint(host.HttpEndpoint)
            .UseGrpcEndpoint(host.GrpcEndpoint)
            .UseDaprApiToken(apiToken)
            .Build();
        return new TestSidecar(host, folder, client);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A store may still hold a file handle for a moment on slow disks; the OS temp cleaner takes the rest.
        }
    }
}
