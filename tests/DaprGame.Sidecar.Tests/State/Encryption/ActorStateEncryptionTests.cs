using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.Tests.Actors;
using Microsoft.Data.Sqlite;
using static DaprGame.Sidecar.Tests.State.Encryption.EncryptionRig;

namespace DaprGame.Sidecar.Tests.State.Encryption;

/// <summary>
/// daprd's actor runtime never calls its encryption package: on an encrypted actor state store, actor state is stored
/// in clear while the same store's state API values are encrypted.
/// </summary>
public sealed class ActorStateEncryptionTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-enc-actors-").FullName;
    private ActorNode _node = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Database => Path.Combine(_folder, "actors.db");

    public async ValueTask InitializeAsync()
    {
        var secrets = Path.Combine(_folder, "secrets.json");
        await File.WriteAllTextAsync(secrets, $$"""{ "key-a": "{{KeyA}}" }""", Ct);
        var resources = Resources("state.sqlite", new Dictionary<string, string> { ["connectionString"] = Database }, Keys(), actorStore: true);
        var yaml = resources["secrets.yaml"].Replace("\"secrets.json\"", $"\"{secrets}\"", StringComparison.Ordinal) + "---\n" + resources["state.yaml"];
        _node = await ActorNode.StartAsync("one", yaml, new SidecarEnvironment { Registry = new InProcessAppRegistry() });
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Actor_state_is_stored_in_clear_while_state_api_values_are_encrypted()
    {
        var id = Guid.NewGuid().ToString("N");

        Assert.Equal(1, await _node.Proxy<ITestActor>(id).IncrementAsync());
        Assert.Equal(2, await _node.Proxy<ITestActor>(id).IncrementAsync());
        await _node.Sidecar!.Client.SaveStateAsync(Store, "plain-api", "hidden", cancellationToken: Ct);

        Assert.Equal(("2", 0L), await RowAsync($"actors||TestActor||{id}||count"));
        var (api, isBinary) = await RowAsync("actors||plain-api");
        Assert.Equal(1L, isBinary);
        Assert.Equal(("\"hidden\"", "key-a"), (System.Text.Encoding.UTF8.GetString(Open(Convert.FromBase64String(api), KeyA).Plaintext), Open(Convert.FromBase64String(api), KeyA).KeyName));
        Assert.Equal(2, await _node.Proxy<ITestActor>(id).GetCountAsync());
    }

    private async Task<(string Value, long IsBinary)> RowAsync(string key)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value, is_binary FROM state WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct), $"no row for {key}");
        return (reader.GetString(0), reader.GetInt64(1));
    }
}
