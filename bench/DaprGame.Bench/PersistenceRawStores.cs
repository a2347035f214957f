using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using StackExchange.Redis;

namespace DaprGame.Bench;

/// <summary>
/// The baseline of the <c>persistence</c> scenario: how fast the profile's store itself takes batched writes of
/// ~500-byte rows, with no sidecar, service or log in front, measured in the same process and run. Each batch is
/// <see cref="RowsPerBatch"/> rows in one transaction (SQLite, PostgreSQL) or one pipeline (Redis), into a table of the
/// layout the sidecar's state store uses.
/// </summary>
internal static class PersistenceRawStores
{
    public const int RowsPerBatch = 1_000;

    /// <summary>A JSON value of 500 bytes, as a state value is stored.</summary>
    private static readonly string Value = "{\"data\":\"" + new string('x', 489) + "\"}";

    /// <summary>
    /// SQLite with Microsoft.Data.Sqlite into a fresh file: WAL, the driver's default <c>synchronous</c> (as the sidecar's
    /// store leaves it), Dapr's <c>state</c> table, one prepared <c>INSERT</c> per row, 1,000 rows per transaction.
    /// </summary>
    public static Task<double> SqliteRowsPerSecondAsync(string folder, TimeSpan duration) => Task.Run(() =>
    {
        var file = Path.Combine(folder, $"raw-{Guid.NewGuid():N}.db");
        using (var connection = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            connection.Open();
            Exec(connection, "PRAGMA journal_mode = WAL");
            Exec(connection, """
                CREATE TABLE state (
                  key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL, is_binary BOOLEAN NOT NULL, etag TEXT NOT NULL,
                  expiration_time TIMESTAMP DEFAULT NULL, update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)
                """);
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO state (key, value, is_binary, etag) VALUES ($key, $value, 0, $etag)";
            var key = insert.Parameters.Add("$key", SqliteType.Text);
            var value = insert.Parameters.Add("$value", SqliteType.Text);
            var etag = insert.Parameters.Add("$etag", SqliteType.Text);
            value.Value = Value;
            long rows = 0;
            var started = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                using var tx = connection.BeginTransaction();
                insert.Transaction = tx;
                for (var i = 0; i < RowsPerBatch; i++, rows++)
                {
                    key.Value = "raw||" + rows.ToString(CultureInfo.InvariantCulture);
                    etag.Value = rows.ToString(CultureInfo.InvariantCulture);
                    insert.ExecuteNonQuery();
                }
                tx.Commit();
            }
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            connection.Close();
            SqliteConnection.ClearAllPools();
            Delete(file);
            return rows / seconds;
        }
    });

    /// <summary>Redis with StackExchange.Redis: <c>HSET key data … version …</c> (Dapr's hash layout), 1,000 commands pipelined per batch.</summary>
    public static async Task<double> RedisRowsPerSecondAsync(string host, TimeSpan duration)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync($"{host},abortConnect=true");
        var db = redis.GetDatabase();
        var prefix = $"raw-{Guid.NewGuid():N}||";
        var data = Encoding.UTF8.GetBytes(Value);
        var pending = new Task[RowsPerBatch];
        long rows = 0;
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < duration)
        {
            for (var i = 0; i < RowsPerBatch; i++, rows++)
            {
                pending[i] = db.HashSetAsync(prefix + rows.ToString(CultureInfo.InvariantCulture), [new HashEntry("data", data), new HashEntry("version", 1)]);
            }
            await Task.WhenAll(pending);
        }
        return rows / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// PostgreSQL with Npgsql: one prepared multi-row <c>INSERT … VALUES (…), (…)</c> of 1,000 rows per transaction into
    /// a table of Dapr's v1 layout (<c>key text</c> primary key, <c>value jsonb</c>, …). Multi-row INSERT rather than
    /// binary COPY: it is the statement a state store can use (COPY would be faster still).
    /// </summary>
    public static async Task<double> PostgresRowsPerSecondAsync(string connectionString, TimeSpan duration)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var connection = await source.OpenConnectionAsync();
        var table = $"raw_{Guid.NewGuid():N}";
        await using (var create = new NpgsqlCommand($"""
            CREATE TABLE {table} (
              key text NOT NULL PRIMARY KEY, value jsonb NOT NULL, isbinary boolean NOT NULL,
              insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(), updatedate TIMESTAMP WITH TIME ZONE NULL)
            """, connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        var sql = new StringBuilder($"INSERT INTO {table} (key, value, isbinary) VALUES ");
        for (var i = 0; i < RowsPerBatch; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ",")}(${2 * i + 1}, ${2 * i + 2}, false)");
        }
        await using var insert = new NpgsqlCommand(sql.ToString(), connection);
        var keys = new NpgsqlParameter[RowsPerBatch];
        for (var i = 0; i < RowsPerBatch; i++)
        {
            keys[i] = new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text };
            insert.Parameters.Add(keys[i]);
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = Value });
        }
        await insert.PrepareAsync();
        long rows = 0;
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < duration)
        {
            await using var tx = await connection.BeginTransactionAsync();
            insert.Transaction = tx;
            for (var i = 0; i < RowsPerBatch; i++, rows++)
            {
                keys[i].Value = "raw||" + rows.ToString(CultureInfo.InvariantCulture);
            }
            await insert.ExecuteNonQueryAsync();
            await tx.CommitAsync();
        }
        var rate = rows / Stopwatch.GetElapsedTime(started).TotalSeconds;
        await using (var drop = new NpgsqlCommand($"DROP TABLE {table}", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }
        return rate;
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static void Delete(string file)
    {
        foreach (var path in new[] { file, file + "-wal", file + "-shm" })
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
    }
}
