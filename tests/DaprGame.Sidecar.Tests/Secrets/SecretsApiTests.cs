using System.Net;
using System.Text.Json;
using Dapr;
using DaprGame.Testing;
using Grpc.Core;

namespace DaprGame.Sidecar.Tests.Secrets;

/// <summary>
/// The secrets API as an app sees it: through <c>DaprClient</c> (gRPC GetSecret/GetBulkSecret) and over HTTP, with
/// daprd's error codes and components-contrib's store answers (the file store fails on a missing secret; the env
/// store answers an unset or forbidden variable with an empty value).
/// </summary>
public sealed class SecretsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Dictionary<string, string> Resources = new(StringComparer.Ordinal)
    {
        ["file.yaml"] = Yaml.Component("secretstore", "secretstores.local.file", new Dictionary<string, string> { ["secretsFile"] = "secrets.json" }),
        ["nested.yaml"] = Yaml.Component("nested", "secretstores.local.file", new Dictionary<string, string> { ["secretsFile"] = "secrets.json", ["multiValued"] = "true" }),
        ["env.yaml"] = Yaml.Component("env", "secretstores.local.env", new Dictionary<string, string> { ["prefix"] = "GAME_" }),
        ["rawenv.yaml"] = Yaml.Component("rawenv", "secretstores.local.env"),
        ["secrets.json"] = """{ "persistence-backup-key": "00ff", "db": { "user": "ada", "password": "pw" } }""",
    };

    private static Task<TestSidecar> StartAsync() =>
        TestSidecar.StartAsync("secrets-app", Resources, o => o.Environment = new Dictionary<string, string>
        {
            ["GAME_token"] = "t-1",
            ["DAPR_API_TOKEN"] = "forbidden",
            ["OTHER"] = "not mine",
        });

    [Fact]
    public async Task GetSecret_reads_the_file_store_flattened_and_multi_valued()
    {
        await using var sidecar = await StartAsync();
        var c = sidecar.Client;

        Assert.Equal(new Dictionary<string, string> { ["persistence-backup-key"] = "00ff" }, await c.GetSecretAsync("secretstore", "persistence-backup-key", cancellationToken: Ct));
        Assert.Equal(new Dictionary<string, string> { ["db:user"] = "ada" }, await c.GetSecretAsync("secretstore", "db:user", cancellationToken: Ct));
        Assert.Equal(new Dictionary<string, string> { ["user"] = "ada", ["password"] = "pw" }, await c.GetSecretAsync("nested", "db", cancellationToken: Ct));
    }

    [Fact]
    public async Task GetSecret_reads_the_env_store_with_its_prefix_and_answers_unset_or_forbidden_names_empty()
    {
        await using var sidecar = await StartAsync();
        var c = sidecar.Client;

        Assert.Equal(new Dictionary<string, string> { ["token"] = "t-1" }, await c.GetSecretAsync("env", "token", cancellationToken: Ct));
        Assert.Equal(new Dictionary<string, string> { ["unset"] = "" }, await c.GetSecretAsync("env", "unset", cancellationToken: Ct));
        Assert.Equal(new Dictionary<string, string> { ["OTHER"] = "not mine" }, await c.GetSecretAsync("rawenv", "OTHER", cancellationToken: Ct));
        Assert.Equal(new Dictionary<string, string> { ["DAPR_API_TOKEN"] = "" }, await c.GetSecretAsync("rawenv", "DAPR_API_TOKEN", cancellationToken: Ct));
    }

    [Fact]
    public async Task GetBulkSecret_returns_every_secret_of_the_store()
    {
        await using var sidecar = await StartAsync();
        var c = sidecar.Client;

        var file = await c.GetBulkSecretAsync("secretstore", cancellationToken: Ct);
        Assert.Equal(["db:password", "db:user", "persistence-backup-key"], file.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("pw", file["db:password"]["db:password"]);
        var nested = await c.GetBulkSecretAsync("nested", cancellationToken: Ct);
        Assert.Equal(new Dictionary<string, string> { ["user"] = "ada", ["password"] = "pw" }, nested["db"]);
        var env = await c.GetBulkSecretAsync("env", cancellationToken: Ct);
        Assert.Equal(["token"], env.Keys);
        Assert.Equal("t-1", env["token"]["token"]);
        var raw = await c.GetBulkSecretAsync("rawenv", cancellationToken: Ct);
        Assert.Equal(["GAME_token", "OTHER"], raw.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("nope", "missing", StatusCode.InvalidArgument, "failed finding secret store with key nope")]
    [InlineData("secretstore", "missing", StatusCode.Internal, "failed getting secret with key missing from secret store secretstore: secret missing not found")]
    public async Task GetSecret_errors_carry_daprd_s_status_and_message(string store, string key, StatusCode code, string message)
    {
        await using var sidecar = await StartAsync();

        var e = await Assert.ThrowsAsync<DaprException>(() => sidecar.Client.GetSecretAsync(store, key, cancellationToken: Ct));

        var rpc = Assert.IsType<RpcException>(e.InnerException);
        Assert.Equal((code, message), (rpc.StatusCode, rpc.Status.Detail));
    }

    [Fact]
    public async Task Without_any_secret_store_the_api_answers_not_configured()
    {
        await using var sidecar = await TestSidecar.StartAsync("no-secrets", new Dictionary<string, string> { ["state.yaml"] = Yaml.Component("statestore", "state.in-memory") });

        var e = await Assert.ThrowsAsync<DaprException>(() => sidecar.Client.GetBulkSecretAsync("secretstore", cancellationToken: Ct));

        var rpc = Assert.IsType<RpcException>(e.InnerException);
        Assert.Equal((StatusCode.FailedPrecondition, "secret store is not configured"), (rpc.StatusCode, rpc.Status.Detail));
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.Host.HttpEndpoint) };
        await AssertHttpErrorAsync(http, "/v1.0/secrets/secretstore/k", HttpStatusCode.InternalServerError, "ERR_SECRET_STORES_NOT_CONFIGURED", "secret store is not configured");
    }

    [Fact]
    public async Task The_http_api_answers_daprd_s_json_and_error_bodies()
    {
        await using var sidecar = await StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.Host.HttpEndpoint) };

        Assert.Equal("""{"persistence-backup-key":"00ff"}""", await http.GetStringAsync(new Uri("/v1.0/secrets/secretstore/persistence-backup-key", UriKind.Relative), Ct));
        using (var bulk = JsonDocument.Parse(await http.GetStringAsync(new Uri("/v1.0/secrets/env/bulk", UriKind.Relative), Ct)))
        {
            Assert.Equal("""{"token":{"token":"t-1"}}""", bulk.RootElement.GetRawText());
        }
        await AssertHttpErrorAsync(http, "/v1.0/secrets/nope/k", HttpStatusCode.Unauthorized, "ERR_SECRET_STORE_NOT_FOUND", "failed finding secret store with key nope");
        await AssertHttpErrorAsync(http, "/v1.0/secrets/secretstore/missing", HttpStatusCode.InternalServerError, "ERR_SECRET_GET", "failed getting secret with key missing from secret store secretstore: secret missing not found");
    }

    [Fact]
    public async Task The_local_profile_serves_the_persistence_backup_key()
    {
        var folder = Directory.CreateTempSubdirectory("daprgame-secrets-profile-").FullName;
        try
        {
            await using var sidecar = await TestSidecar.StartAsync("persistence", LocalCluster.ProfileResources(ClusterProfile.Local, folder, redisHost: null));

            var secret = await sidecar.Client.GetSecretAsync("secretstore", "persistence-backup-key", cancellationToken: Ct);

            Assert.Equal(32, Convert.FromHexString(secret["persistence-backup-key"]).Length);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_file_store_whose_file_is_missing_stops_start_up()
    {
        var resources = new Dictionary<string, string> { ["file.yaml"] = Resources["file.yaml"] };

        var e = await Assert.ThrowsAsync<DaprGame.Sidecar.Components.ResourceException>(() => TestSidecar.StartAsync("secrets-app", resources));

        Assert.Contains("component 'secretstore' (secretstores.local.file) failed to initialise", e.Message, StringComparison.Ordinal);
        Assert.Contains("secrets.json' does not exist", e.Message, StringComparison.Ordinal);
    }

    private static async Task AssertHttpErrorAsync(HttpClient http, string path, HttpStatusCode status, string code, string message)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), Ct);
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal((code, message), (body.RootElement.GetProperty("errorCode").GetString(), body.RootElement.GetProperty("message").GetString()));
    }
}
