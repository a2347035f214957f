using System.Globalization;
using System.Text;
using System.Text.Json;
using DaprGame.Sidecar.Components;
using Npgsql;
using NpgsqlTypes;

namespace DaprGame.Sidecar.State;

/// <summary>
/// <c>state.postgresql</c> in Dapr's layouts (shared/dapr-contract.md §4.6), so a database written here works with
/// real daprd and the other way round. <c>version: v1</c> (the default): table <c>state</c> with a jsonb
/// <c>value</c> and the row's <c>xmin</c> as the ETag. <c>version: v2</c>: table <c>&lt;tablePrefix&gt;state</c> with
/// a bytea <c>value</c> and a random UUID ETag. Both keep their migration level in <c>dapr_metadata</c>. Expiry is
/// compared against the sidecar's <see cref="TimeProvider"/> passed as a parameter (not the server's <c>now()</c>)
/// so tests can advance a fake clock.
/// </summary>
public sealed class PostgresStateStore : IStateStore
{
    // Dapr's v1 migrations: 0 creates the table, 1 adds expiredate, 2 adds row_id. The metadata row holds the count.
    private const int V1MigrationCount = 3;

    // An arbitrary, fixed advisory-lock id so that two sidecars starting together migrate one after the other.
    private const long MigrationLockId = 0x4441505247414D45; // "DAPRGAME"

    private readonly ComponentContext _context;
    private readonly bool _v2;
    private readonly string _table;
    private readonly string _metadataTable;
    private readonly TimeSpan _cleanupInterval;
    private readonly NpgsqlDataSource _dataSource;
    private ExpiryCleanup? _cleanup;

    public PostgresStateStore(ComponentSpec spec, ComponentContext context)
    {
        _context = context;
        var version = spec.Version is { Length: > 0 } v ? v : "v1";
        if (version is not ("v1" or "v2"))
        {
            throw new InvalidOperationException($"state.postgresql has no version '{version}' (Dapr defines v1 and v2)");
        }
        _v2 = version == "v2";
        // v2 names its table from tablePrefix and ignores tableName, as Dapr's v2 metadata does.
        _table = _v2
            ? StoreMetadata.TableName(spec, "tablePrefix", "", allowSchema: true, suffix: "state")
            : StoreMetadata.TableName(spec, "tableName", "state", allowSchema: true);
        _metadataTable = StoreMetadata.TableName(spec, "metadataTableName", "dapr_metadata", allowSchema: true);
        var timeout = StoreMetadata.Duration(spec, "timeout", TimeSpan.FromSeconds(20));
        // cleanupIntervalInSeconds is v1's older name for the same setting (a number of seconds; ≤ 0 disables).
        _cleanupInterval = spec.Get("cleanupInterval") is { Length: > 0 }
            ? StoreMetadata.Duration(spec, "cleanupInterval", TimeSpan.FromHours(1))
            : StoreMetadata.Int(spec, "cleanupIntervalInSeconds") is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromHours(1);
        var raw = spec.Get("connectionString");
        if (string.IsNullOrWhiteSpace(raw))
        {
            throw new InvalidOperationException("missing metadata 'connectionString'");
        }
        var builder = new NpgsqlConnectionStringBuilder(PostgresConnectionString.ToNpgsql(raw))
        {
            CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)),
        };
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public IReadOnlyList<string> Features { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await ExecAsync(connection, $"SELECT pg_advisory_xact_lock({MigrationLockId})", cancellationToken);
        await ExecAsync(connection, $"CREATE TABLE IF NOT EXISTS {_metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)", cancellationToken);
        if (_v2)
        {
            await MigrateV2Async(connection, cancellationToken);
        }
        else
        {
            await MigrateV1Async(connection, cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);

        _cleanup = ExpiryCleanup.Start(_cleanupInterval, _context.Time, SweepExpiredAsync);
    }

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(_v2
            ? $"SELECT value, true, etag::text, expires_at FROM {_table} WHERE key = $1 AND (expires_at IS NULL OR expires_at >= $2)"
            : $"SELECT value::text, isbinary, xmin::text, expiredate FROM {_table} WHERE key = $1 AND (expiredate IS NULL OR expiredate >= $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        command.Parameters.Add(new NpgsqlParameter { Value = _context.Time.GetUtcNow(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var isBinary = reader.GetBoolean(1);
        byte[] value;
        if (_v2)
        {
            // v2 keeps bytes as they were given and does not record whether they were JSON.
            value = reader.GetFieldValue<byte[]>(0);
        }
        else
        {
            var json = reader.GetString(0);
            value = isBinary ? Convert.FromBase64String(JsonSerializer.Deserialize<string>(json) ?? "") : Encoding.UTF8.GetBytes(json);
        }
        DateTimeOffset? expires = reader.IsDBNull(3) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(3), TimeSpan.Zero);
        return new StateItem(value, reader.GetString(2), isBinary, expires);
    }

    public async Task SetAsync(StateSet request, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await SetAsync(connection, request, cancellationToken);
    }

    public async Task DeleteAsync(StateDelete request, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await DeleteAsync(connection, request, cancellationToken);
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var op in operations)
        {
            if (op.Set is { } set)
            {
                await SetAsync(connection, set, cancellationToken);
            }
            else if (op.Delete is { } delete)
            {
                await DeleteAsync(connection, delete, cancellationToken);
            }
        }
        // Leaving by an exception skips the commit; disposing the transaction rolls everything back.
        await tx.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cleanup is not null)
        {
            await _cleanup.DisposeAsync();
        }
        await _dataSource.DisposeAsync();
    }

    private Task SetAsync(NpgsqlConnection connection, StateSet request, CancellationToken cancellationToken) =>
        _v2 ? SetV2Async(connection, request, cancellationToken) : SetV1Async(connection, request, cancellationToken);

    private async Task SetV1Async(NpgsqlConnection connection, StateSet request, CancellationToken cancellationToken)
    {
        // Bytes become a JSON string of their base64 (isbinary = true); JSON values are stored as jsonb as they are.
        var json = request.IsBinary ? JsonSerializer.Serialize(Convert.ToBase64String(request.Value)) : Encoding.UTF8.GetString(request.Value);
        var now = _context.Time.GetUtcNow();
        DateTimeOffset? expires = request.Ttl is { } ttl && ttl > TimeSpan.Zero ? now + ttl : null;
        await using var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.Add(new NpgsqlParameter { Value = request.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = request.IsBinary });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)expires ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });

        if (string.IsNullOrEmpty(request.ETag))
        {
            // First-write refuses a live row; an expired row not yet cleaned up counts as absent.
            var guard = request.Concurrency == Concurrency.FirstWrite ? " WHERE t.expiredate IS NOT NULL AND t.expiredate < $5" : "";
            command.CommandText = $"""
                INSERT INTO {_table} AS t (key, value, isbinary, expiredate, insertdate) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, isbinary = EXCLUDED.isbinary, updatedate = $5, expiredate = EXCLUDED.expiredate{guard}
                """;
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                // As in components-contrib: without an ETag this is a plain failure (Internal), not an ETag error.
                throw new InvalidOperationException("no item was updated");
            }
            return;
        }
        command.Parameters.Add(new NpgsqlParameter { Value = ParseXmin(request.ETag) });
        command.CommandText = $"""
            UPDATE {_table} SET value = $2, isbinary = $3, updatedate = $5, expiredate = $4
            WHERE key = $1 AND xmin::text = $6 AND (expiredate IS NULL OR expiredate >= $5)
            """;
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw new ETagMismatchException("possible etag mismatch");
        }
    }

    private async Task SetV2Async(NpgsqlConnection connection, StateSet request, CancellationToken cancellationToken)
    {
        var now = _context.Time.GetUtcNow();
        DateTimeOffset? expires = request.Ttl is { } ttl && ttl > TimeSpan.Zero ? now + ttl : null;
        await using var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.Add(new NpgsqlParameter { Value = request.Key });
        command.Parameters.Add(new NpgsqlParameter { Value = request.Value, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)expires ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        if (string.IsNullOrEmpty(request.ETag))
        {
            var guard = request.Concurrency == Concurrency.FirstWrite ? " WHERE t.expires_at IS NOT NULL AND t.expires_at < $4" : "";
            command.CommandText = $"""
                INSERT INTO {_table} AS t (key, value, etag, expires_at, created_at) VALUES ($1, $2, gen_random_uuid(), $3, $4)
                ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $4, etag = gen_random_uuid(), expires_at = $3{guard}
                """;
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                throw new InvalidOperationException("no item was updated");
            }
            return;
        }
        command.Parameters.Add(new NpgsqlParameter { Value = ParseUuid(request.ETag) });
        command.CommandText = $"""
            UPDATE {_table} SET value = $2, updated_at = $4, etag = gen_random_uuid(), expires_at = $3
            WHERE key = $1 AND etag = $5 AND (expires_at IS NULL OR expires_at >= $4)
            """;
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw new ETagMismatchException("possible etag mismatch");
        }
    }

    /// <summary>Without an ETag, delete unconditionally; with one, only the matching row (v1: <c>xmin</c>, v2: the etag column).</summary>
    private async Task DeleteAsync(NpgsqlConnection connection, StateDelete request, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.Add(new NpgsqlParameter { Value = request.Key });
        if (string.IsNullOrEmpty(request.ETag))
        {
            command.CommandText = $"DELETE FROM {_table} WHERE key = $1";
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }
        command.Parameters.Add(new NpgsqlParameter { Value = _v2 ? ParseUuid(request.ETag) : ParseXmin(request.ETag) });
        command.CommandText = _v2
            ? $"DELETE FROM {_table} WHERE key = $1 AND etag = $2"
            : $"DELETE FROM {_table} WHERE key = $1 AND xmin::text = $2";
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw new ETagMismatchException("possible etag mismatch");
        }
    }

    /// <summary>v2 ETags are UUIDs; Dapr reports one that is not a UUID as a mismatch, not as invalid.</summary>
    private static Guid ParseUuid(string etag) =>
        Guid.TryParse(etag, out var uuid) ? uuid : throw new ETagMismatchException($"'{etag}' is not a UUID");

    private async Task MigrateV1Async(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = await MigrationLevelAsync(connection, "migrations", cancellationToken);
        if (applied < 1)
        {
            await ExecAsync(connection, $"""
                CREATE TABLE IF NOT EXISTS {_table} (
                  key text NOT NULL PRIMARY KEY,
                  value jsonb NOT NULL,
                  isbinary boolean NOT NULL,
                  insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
                  updatedate TIMESTAMP WITH TIME ZONE NULL
                )
                """, cancellationToken);
        }
        if (applied < 2)
        {
            await ExecAsync(connection, $"ALTER TABLE {_table} ADD COLUMN IF NOT EXISTS expiredate TIMESTAMP WITH TIME ZONE", cancellationToken);
        }
        if (applied < 3)
        {
            await ExecAsync(connection, $"ALTER TABLE {_table} ADD COLUMN IF NOT EXISTS row_id BIGINT GENERATED BY DEFAULT AS IDENTITY", cancellationToken);
        }
        if (applied < V1MigrationCount)
        {
            await SetMigrationLevelAsync(connection, "migrations", V1MigrationCount, cancellationToken);
        }
    }

    private async Task MigrateV2Async(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // The key carries the table prefix, so several v2 stores (and a v1 store) can share one metadata table.
        var key = "migrations-state-v2-" + (_table.Length > "state".Length ? _table[..^"state".Length] : "");
        if (await MigrationLevelAsync(connection, key, cancellationToken) >= 1)
        {
            return;
        }
        await ExecAsync(connection, $"""
            CREATE TABLE IF NOT EXISTS {_table} (
              key text NOT NULL PRIMARY KEY,
              value bytea NOT NULL,
              etag uuid NOT NULL DEFAULT gen_random_uuid(),
              created_at timestamp with time zone NOT NULL DEFAULT now(),
              updated_at timestamp with time zone,
              expires_at timestamp with time zone
            )
            """, cancellationToken);
        await ExecAsync(connection, $"CREATE INDEX ON {_table} (expires_at)", cancellationToken);
        await SetMigrationLevelAsync(connection, key, 1, cancellationToken);
    }

    private async Task<int> MigrationLevelAsync(NpgsqlConnection connection, string key, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand($"SELECT value FROM {_metadataTable} WHERE key = $1", connection);
        read.Parameters.Add(new NpgsqlParameter { Value = key });
        var level = await read.ExecuteScalarAsync(cancellationToken) as string;
        return int.TryParse(level, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    private async Task SetMigrationLevelAsync(NpgsqlConnection connection, string key, int level, CancellationToken cancellationToken)
    {
        await using var write = new NpgsqlCommand($"INSERT INTO {_metadataTable} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", connection);
        write.Parameters.Add(new NpgsqlParameter { Value = key });
        write.Parameters.Add(new NpgsqlParameter { Value = level.ToString(CultureInfo.InvariantCulture) });
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The ETag is a transaction id (uint32); anything else is invalid, as in Dapr.</summary>
    private static string ParseXmin(string etag) =>
        uint.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var xmin)
            ? xmin.ToString(CultureInfo.InvariantCulture)
            : throw new ETagInvalidException($"'{etag}' is not a transaction id");

    private async Task SweepExpiredAsync(CancellationToken stop)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(_v2
                ? $"DELETE FROM {_table} WHERE expires_at IS NOT NULL AND expires_at < $1"
                : $"DELETE FROM {_table} WHERE expiredate IS NOT NULL AND expiredate < $1");
            command.Parameters.Add(new NpgsqlParameter { Value = _context.Time.GetUtcNow(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await command.ExecuteNonQueryAsync(stop);
        }
        catch (NpgsqlException)
        {
            // An unreachable server skips this round; expired rows stay invisible to reads until the next one.
        }
    }

    private static async Task ExecAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
