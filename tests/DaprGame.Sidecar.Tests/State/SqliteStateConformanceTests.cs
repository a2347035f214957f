using Dapr.Client;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace DaprGame.Sidecar.Tests.State;

/// <summary>
/// state.sqlite on a database file per app-id in a folder this class owns (outside the sidecar's own temporary
/// folder, so the file outlives a sidecar for the restart case). First-write refuses a live key with an ETag
/// mismatch (Aborted), as components-contrib does.
/// </summary>
public sealed class SqliteStateConformanceTests : StateStoreConformance, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-sqlite-").FullName;

    protected override string ComponentType => "state.sqlite";

    protected override IReadOnlyDictionary<string, string> ComponentMetadata(string appId) =>
        new Dictionary<string, string> { ["connectionString"] = DatabasePath(appId) };

    protected override StatusCode? FirstWriteConflict(bool keyWrittenWithFirstWrite) => StatusCode.Aborted;

    protected override async Task<IReadOnlyList<string>?> RawKeysAsync(string appId)
    {
        await using var connection = Open(appId);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT key FROM state";
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            keys.Add(reader.GetString(0));
        }
        return keys;
    }

    [Fact]
    public async Task The_database_file_has_dapr_s_sqlite_layout()
    {
        const string appId = "layout-app";
        byte[] expectedJson;
        string etag;
        await using (var sidecar = await StartAsync(appId))
        {
            await sidecar.Client.SaveStateAsync(Store, "k", new { Name = "ada" }, cancellationToken: Ct);
            (_, etag) = await sidecar.Client.GetStateAndETagAsync<object>(Store, "k", cancellationToken: Ct);
            expectedJson = Json(new { Name = "ada" });
        }

        await using var connection = Open(appId);
        Assert.Equal(
            [
                ("key", "TEXT", true, true),
                ("value", "TEXT", true, false),
                ("is_binary", "BOOLEAN", true, false),
                ("etag", "TEXT", true, false),
                ("expiration_time", "TIMESTAMP", false, false),
                ("update_time", "TIMESTAMP", true, false),
            ],
            await RowsAsync(connection, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('state') ORDER BY cid",
                r => (r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetBoolean(3))));
        Assert.Equal([("migrations", "1")], await RowsAsync(connection, "SELECT key, value FROM metadata", r => (r.GetString(0), r.GetString(1))));
        var row = Assert.Single(await RowsAsync(connection, "SELECT key, value, is_binary, etag, expiration_time IS NULL FROM state",
            r => (r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetBoolean(4))));
        Assert.Equal(("layout-app||k", Convert.ToBase64String(expectedJson), 1L, etag, true), row);
        Assert.True(Guid.TryParse(etag, out _), $"etag '{etag}' should be a UUID");
    }

    [Fact]
    public async Task A_relative_connection_string_resolves_against_the_working_directory()
    {
        var folder = Path.Combine(_folder, "relative");
        await using (var sidecar = await DaprGame.Testing.TestSidecar.StartAsync(
            "relative-app",
            new Dictionary<string, string> { ["state.yaml"] = DaprGame.Testing.Yaml.Component(Store, ComponentType, new Dictionary<string, string> { ["connectionString"] = "file:data/state.db?_pragma=busy_timeout(5000)" }) },
            configure: o => o.WorkingDirectory = folder))
        {
            await sidecar.Client.SaveStateAsync(Store, "k", "v", cancellationToken: Ct);
        }
        Assert.True(File.Exists(Path.Combine(folder, "data", "state.db")));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string DatabasePath(string appId) => Path.Combine(_folder, appId + ".db");

    private SqliteConnection Open(string appId)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath(appId), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static async Task<List<T>> RowsAsync<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> read)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(read(reader));
        }
        return rows;
    }
}
