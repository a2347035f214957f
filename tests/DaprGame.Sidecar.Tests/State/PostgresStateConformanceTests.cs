using DaprGame.Testing.Servers;
using Grpc.Core;
using Npgsql;

namespace DaprGame.Sidecar.Tests.State;

/// <summary>
/// state.postgresql (v1) against a private PostgreSQL. First-write without an ETag on an existing key fails with
/// components-contrib's "no item was updated", a plain error (Internal), not an ETag mismatch.
/// </summary>
public sealed class PostgresStateConformanceTests(PostgresServer postgres) : StateStoreConformance, IClassFixture<PostgresServer>
{
    protected override string ComponentType => "state.postgresql";

    protected override IReadOnlyDictionary<string, string> ComponentMetadata(string appId) =>
        new Dictionary<string, string> { ["connectionString"] = postgres.ConnectionString };

    protected override StatusCode? FirstWriteConflict(bool keyWrittenWithFirstWrite) => StatusCode.Internal;

    protected override async Task<IReadOnlyList<string>?> RawKeysAsync(string appId) =>
        await RowsAsync("SELECT key FROM state WHERE key LIKE $1", r => r.GetString(0), appId + "||%");

    [Fact]
    public async Task The_table_has_dapr_s_v1_layout()
    {
        const string appId = "layout-app";
        await using var sidecar = await StartAsync(appId);
        await sidecar.Client.SaveStateAsync(Store, "k", new { Name = "ada" }, cancellationToken: Ct);
        var (_, etag) = await sidecar.Client.GetStateAndETagAsync<object>(Store, "k", cancellationToken: Ct);

        Assert.Equal(
            [
                ("key", "text", "NO"),
                ("value", "jsonb", "NO"),
                ("isbinary", "boolean", "NO"),
                ("insertdate", "timestamp with time zone", "NO"),
                ("updatedate", "timestamp with time zone", "YES"),
                ("expiredate", "timestamp with time zone", "YES"),
                ("row_id", "bigint", "NO"),
            ],
            await RowsAsync("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'state' ORDER BY ordinal_position",
                r => (r.GetString(0), r.GetString(1), r.GetString(2))));
        Assert.Equal(["key"], await RowsAsync("""
            SELECT k.column_name FROM information_schema.table_constraints c
            JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_name = c.table_name
            WHERE c.table_name = 'state' AND c.constraint_type = 'PRIMARY KEY'
            """, r => r.GetString(0)));
        Assert.Equal(
            [("key", "text", "NO"), ("value", "text", "NO")],
            await RowsAsync("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'dapr_metadata' ORDER BY ordinal_position",
                r => (r.GetString(0), r.GetString(1), r.GetString(2))));
        Assert.Equal(["3"], await RowsAsync("SELECT value FROM dapr_metadata WHERE key = 'migrations'", r => r.GetString(0)));

        var row = Assert.Single(await RowsAsync("SELECT value #>> '{}', jsonb_typeof(value), isbinary, xmin::text, expiredate IS NULL FROM state WHERE key = $1",
            r => (r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetString(3), r.GetBoolean(4)), "layout-app||k"));
        Assert.Equal((Convert.ToBase64String(Json(new { Name = "ada" })), "string", true, etag, true), row);
    }

    [Fact]
    public async Task An_unknown_version_is_refused_at_start_up()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => DaprGame.Testing.TestSidecar.StartAsync(NewAppId(), new Dictionary<string, string>
        {
            ["state.yaml"] = DaprGame.Testing.Yaml.Component(Store, ComponentType, ComponentMetadata(""), version: "v3"),
        }));
        Assert.Contains("version 'v3'", e.Message, StringComparison.Ordinal);
    }

    private Task<List<T>> RowsAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] args) =>
        PostgresRows.ReadAsync(postgres, sql, read, args);
}
