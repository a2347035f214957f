using DaprGame.Testing.Servers;
using Npgsql;

namespace DaprGame.Sidecar.Tests.State;

/// <summary>Reads rows straight from a test PostgreSQL, bypassing the sidecar, to check what it stored.</summary>
internal static class PostgresRows
{
    public static async Task<List<T>> ReadAsync<T>(PostgresServer postgres, string sql, Func<NpgsqlDataReader, T> read, params object[] args)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = postgres.Port, Username = "postgres", Database = "postgres", Pooling = false }.ToString());
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var a in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(read(reader));
        }
        return rows;
    }
}
