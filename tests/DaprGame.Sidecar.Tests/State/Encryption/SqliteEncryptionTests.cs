using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using DaprGame.Testing;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using static DaprGame.Sidecar.Tests.State.Encryption.EncryptionRig;

namespace DaprGame.Sidecar.Tests.State.Encryption;

/// <summary>
/// daprd's automatic state encryption over state.sqlite, checked on the file itself. daprd hands the component the
/// ciphertext as bytes, so SQLite stores it as it stores any bytes: base64 in <c>value</c> with <c>is_binary</c> set;
/// decoding that gives <c>base64(nonce‖ciphertext‖tag)||keyName</c>.
/// </summary>
public sealed class SqliteEncryptionTests : IDisposable
{
    private const string AppId = "enc-app";
    private static readonly string[] HttpKeys = ["h", "ht"];
    private static readonly string[] RotatedKeys = ["old", "new"];
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-enc-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Database => Path.Combine(_folder, "state.db");

    [Fact]
    public async Task A_saved_value_is_stored_encrypted_under_the_primary_key_name_and_read_back_in_clear()
    {
        var value = Encoding.UTF8.GetBytes("{\"name\":\"ada\",\"gold\":42}");
        await using var sidecar = await StartAsync(Keys(("key-a", KeyA)));

        await sidecar.Client.SaveByteStateAsync(Store, "k", value, cancellationToken: Ct);

        var (stored, isBinary) = await RawAsync("k");
        Assert.Equal(1L, isBinary);
        Assert.False(Contains(stored, "ada"), "the file must not hold the plaintext");
        var (plaintext, keyName) = Open(stored, KeyA);
        Assert.Equal("key-a", keyName);
        Assert.Equal(value, plaintext);
        Assert.Equal(value, (await sidecar.Client.GetByteStateAsync(Store, "k", cancellationToken: Ct)).ToArray());
    }

    [Fact]
    public async Task Each_save_uses_a_fresh_nonce_and_a_128_bit_key_works_too()
    {
        await using var sidecar = await StartAsync(Keys(("small", Key128)), primary: "small");

        await sidecar.Client.SaveStateAsync(Store, "a", "same", cancellationToken: Ct);
        await sidecar.Client.SaveStateAsync(Store, "b", "same", cancellationToken: Ct);

        var (a, _) = await RawAsync("a");
        var (b, _) = await RawAsync("b");
        Assert.NotEqual(a, b);
        Assert.Equal("\"same\""u8.ToArray(), Open(a, Key128).Plaintext);
        Assert.Equal("same", await sidecar.Client.GetStateAsync<string>(Store, "b", cancellationToken: Ct));
    }

    [Fact]
    public async Task ETags_first_write_and_ttl_behave_as_without_encryption()
    {
        await using var sidecar = await StartAsync(Keys(("key-a", KeyA)));
        var c = sidecar.Client;

        await c.SaveStateAsync(Store, "k", "one", cancellationToken: Ct);
        var (_, etag) = await c.GetStateAndETagAsync<string>(Store, "k", cancellationToken: Ct);

        Assert.True(await c.TrySaveStateAsync(Store, "k", "two", etag, metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "3600" }, cancellationToken: Ct));
        Assert.False(await c.TrySaveStateAsync(Store, "k", "three", etag, cancellationToken: Ct));
        var first = await Assert.ThrowsAsync<DaprException>(() => c.SaveStateAsync(Store, "k", "four",
            new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, cancellationToken: Ct));
        Assert.Equal(StatusCode.Aborted, Assert.IsType<RpcException>(first.InnerException).StatusCode);
        Assert.Equal("two", await c.GetStateAsync<string>(Store, "k", cancellationToken: Ct));

        using var http = new HttpClient { BaseAddress = new Uri(sidecar.Host.HttpEndpoint) };
        using var response = await http.GetAsync(new Uri($"/v1.0/state/{Store}/k", UriKind.Relative), Ct);
        Assert.Equal("\"two\"", await response.Content.ReadAsStringAsync(Ct));
        Assert.True(response.Headers.Contains("metadata.ttlExpireTime"), "the TTL set on the encrypted value is still reported");
    }

    [Fact]
    public async Task Transaction_upserts_are_encrypted_and_bulk_get_decrypts_every_item()
    {
        await using var sidecar = await StartAsync(Keys(("key-a", KeyA)));
        var c = sidecar.Client;
        await c.SaveStateAsync(Store, "gone", "x", cancellationToken: Ct);

        await c.ExecuteStateTransactionAsync(Store,
        [
            new StateTransactionRequest("t1", JsonSerializer.SerializeToUtf8Bytes("first"), StateOperationType.Upsert),
            new StateTransactionRequest("t2", JsonSerializer.SerializeToUtf8Bytes(new { n = 2 }), StateOperationType.Upsert),
            new StateTransactionRequest("gone", null, StateOperationType.Delete),
        ], cancellationToken: Ct);

        Assert.Equal("\"first\""u8.ToArray(), Open((await RawAsync("t1")).Value, KeyA).Plaintext);
        Assert.Equal("{\"n\":2}"u8.ToArray(), Open((await RawAsync("t2")).Value, KeyA).Plaintext);
        Assert.Null(await c.GetStateAsync<string>(Store, "gone", cancellationToken: Ct));
        var items = await c.GetBulkStateAsync(Store, ["t1", "t2", "missing"], parallelism: 2, cancellationToken: Ct);
        Assert.Equal(["\"first\"", "{\"n\":2}", ""], items.Select(i => i.Value));
    }

    [Fact]
    public async Task The_http_surface_encrypts_saves_and_transactions_and_decrypts_get_and_bulk()
    {
        await using var sidecar = await StartAsync(Keys(("key-a", KeyA)));
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.Host.HttpEndpoint) };

        using (var save = await http.PostAsJsonAsync($"/v1.0/state/{Store}", new[] { new { key = "h", value = new { name = "ada" } } }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, save.StatusCode);
        }
        using (var tx = await http.PostAsJsonAsync($"/v1.0/state/{Store}/transaction",
            new { operations = new[] { new { operation = "upsert", request = new { key = "ht", value = (object)"secret" } } } }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, tx.StatusCode);
        }

        Assert.Equal("{\"name\":\"ada\"}"u8.ToArray(), Open((await RawAsync("h")).Value, KeyA).Plaintext);
        Assert.Equal("\"secret\""u8.ToArray(), Open((await RawAsync("ht")).Value, KeyA).Plaintext);
        Assert.Equal("{\"name\":\"ada\"}", await http.GetStringAsync(new Uri($"/v1.0/state/{Store}/h", UriKind.Relative), Ct));
        using var bulk = await http.PostAsJsonAsync($"/v1.0/state/{Store}/bulk", new { keys = HttpKeys }, Ct);
        using var doc = JsonDocument.Parse(await bulk.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["{\"name\":\"ada\"}", "\"secret\""], doc.RootElement.EnumerateArray().Select(i => i.GetProperty("data").GetRawText()));
    }

    [Fact]
    public async Task Rotation_keeps_old_values_readable_through_the_secondary_and_fails_clearly_once_the_key_is_gone()
    {
        var both = Keys(("key-a", KeyA), ("key-b", KeyB));
        await using (var first = await StartAsync(both, primary: "key-a"))
        {
            await first.Client.SaveStateAsync(Store, "old", "written under A", cancellationToken: Ct);
        }

        await using (var rotated = await StartAsync(both, primary: "key-b", secondary: "key-a"))
        {
            Assert.Equal("written under A", await rotated.Client.GetStateAsync<string>(Store, "old", cancellationToken: Ct));
            await rotated.Client.SaveStateAsync(Store, "new", "written under B", cancellationToken: Ct);
        }
        Assert.Equal("key-a", Open((await RawAsync("old")).Value, KeyA).KeyName);
        Assert.Equal("key-b", Open((await RawAsync("new")).Value, KeyB).KeyName);

        await using var retired = await StartAsync(Keys(("key-b", KeyB)), primary: "key-b");
        Assert.Equal("written under B", await retired.Client.GetStateAsync<string>(Store, "new", cancellationToken: Ct));
        var e = await Assert.ThrowsAsync<DaprException>(() => retired.Client.GetStateAsync<string>(Store, "old", cancellationToken: Ct));
        var rpc = Assert.IsType<RpcException>(e.InnerException);
        Assert.Equal(StatusCode.Internal, rpc.StatusCode);
        Assert.Contains($"fail to get old from state store {Store}: could not decrypt data for state store {Store}: the value was encrypted with key 'key-a', which is neither the primary ('key-b') nor the secondary (none) encryption key", rpc.Status.Detail, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = new Uri(retired.Host.HttpEndpoint) };
        using var bulk = await http.PostAsJsonAsync($"/v1.0/state/{Store}/bulk", new { keys = RotatedKeys }, Ct);
        using var doc = JsonDocument.Parse(await bulk.Content.ReadAsStringAsync(Ct));
        var items = doc.RootElement.EnumerateArray().ToList();
        Assert.False(items[0].TryGetProperty("data", out _));
        Assert.Contains("encrypted with key 'key-a'", items[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("\"written under B\"", items[1].GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task A_value_that_was_tampered_with_fails_to_read_instead_of_returning_garbage()
    {
        await using var sidecar = await StartAsync(Keys(("key-a", KeyA)));
        await sidecar.Client.SaveStateAsync(Store, "k", "original", cancellationToken: Ct);
        var (stored, _) = await RawAsync("k");
        var text = Encoding.UTF8.GetString(stored);
        var box = Convert.FromBase64String(text[..text.LastIndexOf("||", StringComparison.Ordinal)]);
        box[20] ^= 1;
        await using (var connection = new SqliteConnection($"Data Source={Database};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE state SET value = $v WHERE key = $k";
            update.Parameters.AddWithValue("$v", Convert.ToBase64String(Encoding.UTF8.GetBytes(Convert.ToBase64String(box) + "||key-a")));
            update.Parameters.AddWithValue("$k", $"{AppId}||k");
            Assert.Equal(1, await update.ExecuteNonQueryAsync(Ct));
        }

        var e = await Assert.ThrowsAsync<DaprException>(() => sidecar.Client.GetStateAsync<string>(Store, "k", cancellationToken: Ct));

        Assert.Contains("message authentication failed with key 'key-a'", Assert.IsType<RpcException>(e.InnerException).Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain", "metadata 'primaryEncryptionKey' must be a secretKeyRef to a secret store (auth.secretStore), not a plain value")]
    [InlineData("missing", "secret 'key-x' not found in secret store 'secrets'")]
    [InlineData("short", "secret 'short' for 'primaryEncryptionKey' decodes to 8 bytes; an AES key is 16, 24 or 32 bytes")]
    [InlineData("nothex", "secret 'nothex' for 'primaryEncryptionKey' is not a hex-encoded AES key")]
    [InlineData("empty", "encryption key cannot be empty (secret 'empty')")]
    [InlineData("secondary-only", "'secondaryEncryptionKey' is set but 'primaryEncryptionKey' is not")]
    [InlineData("no-store", "metadata 'primaryEncryptionKey' uses secretKeyRef but the component has no auth.secretStore")]
    public async Task A_bad_key_configuration_is_refused_at_load_with_a_clear_message(string kind, string expected)
    {
        var secrets = Keys(("key-a", KeyA), ("short", "0011223344556677"), ("nothex", new string('z', 64)), ("empty", ""));
        var resources = kind switch
        {
            "missing" => Resources("state.sqlite", Sqlite(), secrets, primary: "key-x"),
            "secondary-only" => Resources("state.sqlite", Sqlite(), secrets, primary: null, secondary: "key-a"),
            "plain" => Resources("state.sqlite", new Dictionary<string, string>(Sqlite()) { ["primaryEncryptionKey"] = KeyA }, secrets, primary: null),
            "no-store" => Resources("state.sqlite", Sqlite(), secrets),
            _ => Resources("state.sqlite", Sqlite(), secrets, primary: kind),
        };
        if (kind == "no-store")
        {
            resources["state.yaml"] = resources["state.yaml"].Replace("auth:\n  secretStore: secrets\n", "", StringComparison.Ordinal);
        }

        var e = await Assert.ThrowsAsync<DaprGame.Sidecar.Components.ResourceException>(() => TestSidecar.StartAsync(AppId, resources));

        Assert.EndsWith("state.yaml", e.File, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
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

    private Dictionary<string, string> Sqlite() => new() { ["connectionString"] = Database };

    private Task<TestSidecar> StartAsync(Dictionary<string, string> secrets, string? primary = "key-a", string? secondary = null) =>
        TestSidecar.StartAsync(AppId, Resources("state.sqlite", Sqlite(), secrets, primary, secondary));

    /// <summary>The row's <c>value</c> decoded from base64 (it is binary) and its <c>is_binary</c> flag.</summary>
    private async Task<(byte[] Value, long IsBinary)> RawAsync(string key)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value, is_binary FROM state WHERE key = $key";
        command.Parameters.AddWithValue("$key", $"{AppId}||{key}");
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct), $"no row for {AppId}||{key}");
        var isBinary = reader.GetInt64(1);
        Assert.Equal(1L, isBinary);
        return (Convert.FromBase64String(reader.GetString(0)), isBinary);
    }
}
