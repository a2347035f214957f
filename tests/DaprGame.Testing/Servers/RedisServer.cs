using Xunit;
using System.Diagnostics;
using DaprGame.Sidecar.Hosting;

namespace DaprGame.Testing.Servers;

/// <summary>
/// A private <c>redis-server</c> on a free loopback port, without persistence. One per test class (xunit class
/// fixture) keeps tests independent; <see cref="FlushAsync"/> empties it between tests.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private Process? _process;

    public int Port { get; private set; }

    /// <summary>The <c>redisHost</c> component metadata value.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public async ValueTask InitializeAsync()
    {
        var exe = ServerProcess.FindExecutable("redis-server")
            ?? throw new InvalidOperationException("redis-server is not installed; the README's test command installs it (apt-get install redis-server)");
        Port = SidecarHost.FreePort();
        _process = ServerProcess.Start(exe, ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"]);
        await ServerProcess.WaitForPortAsync(Port, _process, "redis-server", TimeSpan.FromSeconds(30));
    }

    /// <summary>Stops the server abruptly, as a crash would (for fault tests).</summary>
    public void Kill()
    {
        if (_process is not null)
        {
            ServerProcess.Kill(_process);
            _process = null;
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }
}
