using DaprGame.Testing.Servers;
using Grpc.Core;
using Npgsql;

namespace DaprGame.Sidecar.Tests.State;

/// <summary>
/// state.postgresql <c>version: v2</c>: bytea values, UUID ETags, table <c>&lt;tablePrefix&gt;state</c>. First-write
/// on an existing key is components-contrib's plain "no item was updated" (Internal); an ETag that is not a UUID is a
/// mismatch, so TrySave reports false rather than throwing.
/// </summary>
public sealed class PostgresV2StateConformanceTests(PostgresServer postgres) : StateStoreConformance, IClassFixture<PostgresServer>
{
    protected override string ComponentType => "state.postgresql";

    protected override string ComponentVersion => "v2";

    protected override IReadOnlyDictionary<string, string> ComponentMetadata(string appId) =>
        new Dictionary<string, string> { ["connectionString"] = postgres.ConnectionString, ["tablePrefix"] = "game_" };

    protected override StatusCode? FirstWriteConflict(bool keyWrittenWithFirstWrite) => StatusCode.Internal;

    protected override async Task<IReadOnlyList<string>?> RawKeysAsync(string appId) =>
        await RowsAsync("SELECT key FROM game_state WHERE key LIKE $1", r => r.GetString(0), appId + "||%");

    [Fact]
    public async Task The_table_has_dapr_s_v2_layout()
    {
        const string appId = "layout-app";
        await using var sidecar = await StartAsync(appId);
        await sidecar.Client.SaveStateAsync(Store, "k", new { Name = "ada" }, cancellationToken: Ct);
        var (_, etag) = await sidecar.Client.GetStateAndETagAsync<object>(Store, "k", cancellationToken: Ct);

        Assert.Equal(
            [
                ("key", "text", "NO"),
                ("value", "bytea", "NO"),
                ("etag", "uuid", "NO"),
                ("created_at", "timestamp with time zone", "NO"),
                ("updated_at", "timestamp with time zone", "YES"),
                ("expires_at", "timestamp with time zone", "YES"),
            ],
            await RowsAsync("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'game_state' ORDER BY ordinal_position",
                r => (r.GetString(0), r.GetString(1), r.GetString(2))));
        Assert.Equal(["1"], await RowsAsync("SELECT value FROM dapr_metadata WHERE key = 'migrations-state-v2-game_'", r => r.GetString(0)));
        Assert.Single(await RowsAsync("SELECT indexname FROM pg_indexes WHERE tablename = 'game_state' AND indexdef LIKE '%(expires_at)%'", r => r.GetString(0)));

        var row = Assert.Single(await RowsAsync("SELECT value, etag::text FROM game_state WHERE key = $1",
            r => (r.GetFieldValue<byte[]>(0), r.GetString(1)), "layout-app||k"));
        Assert.Equal(Json(new { Name = "ada" }), row.Item1);
        Assert.Equal(etag, row.Item2);
    }

    [Fact]
    public async Task An_etag_that_is_not_a_uuid_is_a_mismatch()
    {
        await using var sidecar = await StartAsync(NewAppId());
        await sidecar.Client.SaveStateAsync(Store, "k", "one", cancellationToken: Ct);

        Assert.False(await sidecar.Client.TrySaveStateAsync(Store, "k", "two", "12345", cancellationToken: Ct));
        Assert.False(await sidecar.Client.TryDeleteStateAsync(Store, "k", "12345", cancellationToken: Ct));
        Assert.Equal("one", await sidecar.Client.GetStateAsync<string>(Store, "k", cancellationToken: Ct));
    }

    private Task<List<T>> RowsAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] args) =>
        PostgresRows.ReadAsync(postgres, sql, read, args);
}
