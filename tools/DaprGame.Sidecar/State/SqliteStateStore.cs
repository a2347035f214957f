using System.Globalization;
using System.Text;
using DaprGame.Sidecar.Components;
using Microsoft.Data.Sqlite;

namespace DaprGame.Sidecar.State;

/// <summary>
/// <c>state.sqlite</c> in Dapr's own layout (shared/dapr-contract.md §4.5), so a database file written here can be
/// opened by real daprd and the other way round. ETags are new UUIDs per write; first-write without an ETag fails on
/// a live key with an ETag mismatch, as in components-contrib. Time comes from the sidecar's <see cref="TimeProvider"/>
/// rather than SQLite's <c>CURRENT_TIMESTAMP</c>, so tests can expire rows by advancing a fake clock; the stored
/// text format is the one <c>CURRENT_TIMESTAMP</c> produces, so both kinds of writer compare correctly.
/// </summary>
public sealed class SqliteStateStore : IStateStore
{
    // SQLite's CURRENT_TIMESTAMP text form; string comparison of this format orders by time.
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss";

    private readonly ComponentContext _context;
    private readonly string _table;
    private readonly string _metadataTable;
    private readonly TimeSpan _busyTimeout;
    private readonly TimeSpan _cleanupInterval;
    private readonly bool _disableWal;
    private readonly string _connectionString;
    private readonly bool _inMemory;
    private SqliteConnection? _keepAlive;
    private ExpiryCleanup? _cleanup;

    public SqliteStateStore(ComponentSpec spec, ComponentContext context)
    {
        _context = context;
        _table = StoreMetadata.TableName(spec, "tableName", "state", allowSchema: false);
        _metadataTable = StoreMetadata.TableName(spec, "metadataTableName", "metadata", allowSchema: false);
        if (string.Equals(_table, _metadataTable, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("metadata 'tableName' and 'metadataTableName' must differ");
        }
        var timeout = StoreMetadata.Duration(spec, "timeout", TimeSpan.FromSeconds(20));
        _busyTimeout = StoreMetadata.Duration(spec, "busyTimeout", TimeSpan.FromSeconds(2));
        _cleanupInterval = StoreMetadata.Duration(spec, "cleanupInterval", TimeSpan.Zero);
        _disableWal = spec.GetBool("disableWAL");
        var raw = spec.Get("connectionString") ?? spec.Get("url");
        if (string.IsNullOrWhiteSpace(raw))
        {
            throw new InvalidOperationException("missing metadata 'connectionString' (a file path or file: URI)");
        }
        (_connectionString, _inMemory) = BuildConnectionString(raw.Trim(), context.Options.WorkingDirectory, timeout);
    }

    public IReadOnlyList<string> Features { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        if (_inMemory)
        {
            // A shared-cache memory database lives only while a connection is open.
            _keepAlive = new SqliteConnection(_connectionString);
            await _keepAlive.OpenAsync(cancellationToken);
        }
        await using var connection = await OpenAsync(cancellationToken);
        if (!_inMemory)
        {
            await ExecAsync(connection, null, _disableWal ? "PRAGMA journal_mode = DELETE" : "PRAGMA journal_mode = WAL", cancellationToken);
        }
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await ExecAsync(connection, tx, $"CREATE TABLE IF NOT EXISTS {_metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)", cancellationToken);
        var level = await ScalarAsync(connection, tx, $"SELECT value FROM {_metadataTable} WHERE key = 'migrations'", cancellationToken);
        if (!int.TryParse(level as string, NumberStyles.None, CultureInfo.InvariantCulture, out var applied))
        {
            applied = 0;
        }
        if (applied < 1)
        {
            // Migration 1 of Dapr's state.sqlite: the state table.
            await ExecAsync(connection, tx, $"""
                CREATE TABLE IF NOT EXISTS {_table} (
                  key TEXT NOT NULL PRIMARY KEY,
                  value TEXT NOT NULL,
                  is_binary BOOLEAN NOT NULL,
                  etag TEXT NOT NULL,
                  expiration_time TIMESTAMP DEFAULT NULL,
                  update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
                )
                """, cancellationToken);
            await ExecAsync(connection, tx, $"INSERT OR REPLACE INTO {_metadataTable} (key, value) VALUES ('migrations', '1')", cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);

        _cleanup = ExpiryCleanup.Start(_cleanupInterval, _context.Time, SweepExpiredAsync);
    }

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT value, is_binary, etag, expiration_time FROM {_table} WHERE key = $key AND (expiration_time IS NULL OR expiration_time > $now)";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$now", Now());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var text = reader.GetString(0);
        var isBinary = reader.GetBoolean(1);
        var value = isBinary ? Convert.FromBase64String(text) : Encoding.UTF8.GetBytes(text);
        DateTimeOffset? expires = reader.IsDBNull(3) ? null : ParseTimestamp(reader.GetString(3));
        return new StateItem(value, reader.GetString(2), isBinary, expires);
    }

    public async Task SetAsync(StateSet request, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await SetAsync(connection, null, request, cancellationToken);
    }

    public async Task DeleteAsync(StateDelete request, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await DeleteAsync(connection, null, request, cancellationToken);
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // BEGIN IMMEDIATE takes the write lock up front, so two writers wait on busy_timeout instead of failing
        // to upgrade a read lock half-way through.
        await using var tx = connection.BeginTransaction(deferred: false);
        foreach (var op in operations)
        {
            if (op.Set is { } set)
            {
                await SetAsync(connection, tx, set, cancellationToken);
            }
            else if (op.Delete is { } delete)
            {
                await DeleteAsync(connection, tx, delete, cancellationToken);
            }
        }
        // Any exception above leaves without commit; disposing the transaction rolls everything back.
        await tx.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cleanup is not null)
        {
            await _cleanup.DisposeAsync();
        }
        if (_keepAlive is not null)
        {
            await _keepAlive.DisposeAsync();
        }
        // Pooled connections keep the file open (and its WAL files) after the store is gone; release them so a
        // restarted sidecar or a test can reopen or delete the file.
        using var probe = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(probe);
    }

    private async Task SetAsync(SqliteConnection connection, SqliteTransaction? tx, StateSet request, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        var now = _context.Time.GetUtcNow();
        command.Parameters.AddWithValue("$key", request.Key);
        command.Parameters.AddWithValue("$value", request.IsBinary ? Convert.ToBase64String(request.Value) : Encoding.UTF8.GetString(request.Value));
        command.Parameters.AddWithValue("$binary", request.IsBinary);
        command.Parameters.AddWithValue("$etag", Guid.NewGuid().ToString());
        command.Parameters.AddWithValue("$now", Format(now));
        command.Parameters.AddWithValue("$expires", request.Ttl is { } ttl && ttl > TimeSpan.Zero ? Format(now + ttl) : DBNull.Value);

        var hasETag = !string.IsNullOrEmpty(request.ETag);
        if (!hasETag && request.Concurrency == Concurrency.FirstWrite)
        {
            // A row that has expired but not been cleaned up yet counts as absent, as in components-contrib.
            command.CommandText = $"""
                INSERT OR REPLACE INTO {_table} (key, value, is_binary, etag, expiration_time, update_time)
                SELECT $key, $value, $binary, $etag, $expires, $now
                WHERE NOT EXISTS (SELECT 1 FROM {_table} WHERE key = $key AND (expiration_time IS NULL OR expiration_time > $now))
                """;
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new ETagMismatchException("first-write: the key already exists");
            }
        }
        else if (!hasETag)
        {
            command.CommandText = $"""
                INSERT OR REPLACE INTO {_table} (key, value, is_binary, etag, expiration_time, update_time)
                VALUES ($key, $value, $binary, $etag, $expires, $now)
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        else
        {
            command.Parameters.AddWithValue("$expected", request.ETag);
            command.CommandText = $"""
                UPDATE {_table} SET value = $value, etag = $etag, is_binary = $binary, update_time = $now, expiration_time = $expires
                WHERE key = $key AND etag = $expected AND (expiration_time IS NULL OR expiration_time > $now)
                """;
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new ETagMismatchException("possible etag mismatch");
            }
        }
    }

    private async Task DeleteAsync(SqliteConnection connection, SqliteTransaction? tx, StateDelete request, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.Parameters.AddWithValue("$key", request.Key);
        if (string.IsNullOrEmpty(request.ETag))
        {
            command.CommandText = $"DELETE FROM {_table} WHERE key = $key";
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }
        command.Parameters.AddWithValue("$expected", request.ETag);
        command.CommandText = $"DELETE FROM {_table} WHERE key = $key AND etag = $expected";
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new ETagMismatchException("possible etag mismatch");
        }
    }

    private async Task SweepExpiredAsync(CancellationToken stop)
    {
        try
        {
            await using var connection = await OpenAsync(stop);
            await using var command = connection.CreateCommand();
            command.CommandText = $"DELETE FROM {_table} WHERE expiration_time IS NOT NULL AND expiration_time <= $now";
            command.Parameters.AddWithValue("$now", Now());
            await command.ExecuteNonQueryAsync(stop);
        }
        catch (SqliteException)
        {
            // A busy database skips this round; expired rows stay invisible to reads until the next one.
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecAsync(connection, null, $"PRAGMA busy_timeout = {(long)_busyTimeout.TotalMilliseconds}", cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task ExecAsync(SqliteConnection connection, SqliteTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, SqliteTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private string Now() => Format(_context.Time.GetUtcNow());

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>
    /// Turns Dapr's <c>connectionString</c> (a path, <c>:memory:</c>, or a <c>file:</c> URI whose query carries Go
    /// driver options such as <c>_pragma</c>) into a Microsoft.Data.Sqlite one. The query is dropped: the pragmas it
    /// could set are the component's own <c>busyTimeout</c>/<c>disableWAL</c> metadata here.
    /// </summary>
    private static (string ConnectionString, bool InMemory) BuildConnectionString(string raw, string workingDirectory, TimeSpan timeout)
    {
        var path = raw;
        var query = "";
        if (path.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            path = path[5..];
            var q = path.IndexOf('?', StringComparison.Ordinal);
            if (q >= 0)
            {
                query = path[(q + 1)..];
                path = path[..q];
            }
            path = Uri.UnescapeDataString(path);
        }
        var builder = new SqliteConnectionStringBuilder
        {
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)),
            Pooling = true,
        };
        var memory = path == ":memory:" || query.Split('&').Contains("mode=memory", StringComparer.OrdinalIgnoreCase);
        if (memory)
        {
            // Each sidecar store gets its own private memory database, as each daprd process would.
            builder.DataSource = "daprgame-state-" + Guid.NewGuid().ToString("N");
            builder.Mode = SqliteOpenMode.Memory;
            builder.Cache = SqliteCacheMode.Shared;
            return (builder.ToString(), true);
        }
        if (path.Length == 0)
        {
            throw new InvalidOperationException($"metadata 'connectionString' value '{raw}' names no database file");
        }
        var full = Path.GetFullPath(path, workingDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        builder.DataSource = full;
        builder.Mode = SqliteOpenMode.ReadWriteCreate;
        return (builder.ToString(), false);
    }
}
