using Xunit;
using System.Diagnostics;
using System.Globalization;
using DaprGame.Sidecar.Hosting;

namespace DaprGame.Testing.Servers;

/// <summary>
/// A private PostgreSQL cluster in a temporary folder on a free loopback port, created with <c>initdb</c> and
/// stopped and deleted at the end. PostgreSQL refuses to run as root, so under root it runs as the
/// <c>postgres</c> user that Debian's package creates.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string PostgresRoots = "/usr/lib/postgresql";
    private Process? _process;
    private string _dataDir = "";

    public int Port { get; private set; }

    /// <summary>The <c>connectionString</c> component metadata value (trust authentication on loopback).</summary>
    public string ConnectionString => $"host=127.0.0.1 port={Port} user=postgres database=postgres";

    public async ValueTask InitializeAsync()
    {
        var initdb = ServerProcess.FindExecutable("initdb", PostgresRoots)
            ?? throw new InvalidOperationException("PostgreSQL is not installed; the README's test command installs it (apt-get install postgresql)");
        var postgres = Path.Combine(Path.GetDirectoryName(initdb)!, "postgres");
        var asUser = Environment.UserName == "root" ? "postgres" : null;

        _dataDir = Path.Combine(Path.GetTempPath(), "daprgame-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dataDir);
        if (asUser is not null)
        {
            RunToEnd("chown", [asUser, _dataDir], null);
        }
        RunToEnd(initdb, ["-D", _dataDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"], asUser);

        Port = SidecarHost.FreePort();
        _process = ServerProcess.Start(postgres,
        [
            "-D", _dataDir, "-p", Port.ToString(CultureInfo.InvariantCulture), "-h", "127.0.0.1", "-k", _dataDir,
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ], asUser);
        await ServerProcess.WaitForPortAsync(Port, _process, "postgres", TimeSpan.FromSeconds(60));
        await WaitForQueriesAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// PostgreSQL listens before it accepts sessions: until recovery ends it answers 57P03 "the database system is
    /// starting up". Poll with a real query, against a deadline, so tests never meet that window.
    /// </summary>
    private async Task WaitForQueriesAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = "postgres", Pooling = false }.ToString();
        while (true)
        {
            try
            {
                await using var connection = new Npgsql.NpgsqlConnection(connectionString);
                await connection.OpenAsync(deadline.Token);
                await using var command = new Npgsql.NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(deadline.Token);
                return;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == "57P03")
            {
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"postgres on port {Port} did not accept queries within {timeout.TotalSeconds:0} s");
            }
            try
            {
                await Task.Delay(50, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"postgres on port {Port} did not accept queries within {timeout.TotalSeconds:0} s");
            }
        }
    }

    private static void RunToEnd(string file, string[] args, string? asUser)
    {
        using var p = ServerProcess.Start(file, args, asUser);
        if (!p.WaitForExit(120_000) || p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed with exit code {(p.HasExited ? p.ExitCode : -1)}");
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            ServerProcess.Kill(_process);
            _process = null;
        }
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
