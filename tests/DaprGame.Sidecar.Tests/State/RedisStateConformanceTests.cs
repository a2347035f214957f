using Dapr;
using Dapr.Client;
using DaprGame.Testing;
using DaprGame.Testing.Servers;
using Grpc.Core;
using StackExchange.Redis;

namespace DaprGame.Sidecar.Tests.State;

/// <summary>
/// state.redis against a private redis-server. Real Dapr's first-write only refuses a key that was itself written
/// with first-write (its hash has a <c>first-write</c> field), and then as a plain failure (Internal), because no
/// ETag was given; a key written with last-write is overwritten. Expiry is Redis's own (EXPIRE), so TTL is checked
/// on the server rather than by advancing a clock.
/// </summary>
public sealed class RedisStateConformanceTests(RedisServer redis) : StateStoreConformance, IClassFixture<RedisServer>
{
    protected override string ComponentType => "state.redis";

    protected override bool ExpiryFollowsSidecarClock => false;

    protected override IReadOnlyDictionary<string, string> ComponentMetadata(string appId) =>
        new Dictionary<string, string> { ["redisHost"] = redis.Host };

    protected override StatusCode? FirstWriteConflict(bool keyWrittenWithFirstWrite) => keyWrittenWithFirstWrite ? StatusCode.Internal : null;

    protected override async Task<IReadOnlyList<string>?> RawKeysAsync(string appId)
    {
        await using var connection = await ConnectAsync();
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        return [.. server.Keys(pattern: appId + "||*").Select(k => (string)k!)];
    }

    protected override async Task AssertServerTtlAsync(string appId, string key, TimeSpan ttl)
    {
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        var remaining = await db.KeyTimeToLiveAsync($"{appId}||{key}");
        Assert.NotNull(remaining);
        Assert.InRange(remaining.Value, TimeSpan.FromMilliseconds(1), ttl);
        Assert.Null(await db.KeyTimeToLiveAsync($"{appId}||forever"));
    }

    [Fact]
    public async Task A_save_writes_dapr_s_redis_hash_layout()
    {
        const string appId = "layout-app";
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();
        await db.KeyDeleteAsync("layout-app||k");
        await using var sidecar = await StartAsync(appId);

        await sidecar.Client.SaveStateAsync(Store, "k", new { Name = "ada" }, cancellationToken: Ct);

        Assert.Equal(RedisType.Hash, await db.KeyTypeAsync("layout-app||k"));
        var fields = (await db.HashGetAllAsync("layout-app||k")).ToDictionary(e => (string)e.Name!, e => e.Value);
        Assert.Equal(["data", "version"], fields.Keys.Order());
        Assert.Equal(Json(new { Name = "ada" }), (byte[])fields["data"]!);
        Assert.Equal("1", (string?)fields["version"]);
        var (_, etag) = await sidecar.Client.GetStateAndETagAsync<object>(Store, "k", cancellationToken: Ct);
        Assert.Equal("1", etag);

        await sidecar.Client.SaveStateAsync(Store, "k", new { Name = "bob" }, new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, cancellationToken: Ct);
        Assert.Equal("2", (string?)await db.HashGetAsync("layout-app||k", "version"));
        Assert.Equal("0", (string?)await db.HashGetAsync("layout-app||k", "first-write"));
    }

    [Fact]
    public async Task An_explicit_last_write_ignores_a_stale_etag_as_dapr_s_redis_component_does()
    {
        await using var sidecar = await StartAsync(NewAppId());
        await sidecar.Client.SaveStateAsync(Store, "k", "one", cancellationToken: Ct);

        var saved = await sidecar.Client.TrySaveStateAsync(Store, "k", "two", "999", new StateOptions { Concurrency = ConcurrencyMode.LastWrite }, cancellationToken: Ct);

        Assert.True(saved);
        Assert.Equal("two", await sidecar.Client.GetStateAsync<string>(Store, "k", cancellationToken: Ct));
        Assert.False(await sidecar.Client.TrySaveStateAsync(Store, "k", "three", "999", cancellationToken: Ct));
    }

    [Fact]
    public async Task A_request_ttl_of_minus_one_overrides_the_component_default_expiry()
    {
        var appId = NewAppId();
        await using var sidecar = await TestSidecar.StartAsync(appId, new Dictionary<string, string>
        {
            ["state.yaml"] = Yaml.Component(Store, ComponentType, new Dictionary<string, string> { ["redisHost"] = redis.Host, ["ttlInSeconds"] = "600" }),
        });
        await using var connection = await ConnectAsync();
        var db = connection.GetDatabase();

        await sidecar.Client.SaveStateAsync(Store, "defaulted", "x", cancellationToken: Ct);
        await sidecar.Client.SaveStateAsync(Store, "forever", "x", metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "-1" }, cancellationToken: Ct);

        Assert.InRange((await db.KeyTimeToLiveAsync($"{appId}||defaulted"))!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(600));
        Assert.Null(await db.KeyTimeToLiveAsync($"{appId}||forever"));
    }

    [Fact]
    public async Task A_non_numeric_etag_is_invalid_argument_on_save()
    {
        await using var sidecar = await StartAsync(NewAppId());
        await sidecar.Client.SaveStateAsync(Store, "k", "one", cancellationToken: Ct);

        var e = await Assert.ThrowsAsync<DaprException>(() => sidecar.Client.TrySaveStateAsync(Store, "k", "two", "not-a-number", cancellationToken: Ct));

        Assert.Equal(StatusCode.InvalidArgument, StatusOf(e));
        Assert.Equal("one", await sidecar.Client.GetStateAsync<string>(Store, "k", cancellationToken: Ct));
    }

    [Fact]
    public async Task A_plain_string_value_is_read_without_an_etag()
    {
        var appId = NewAppId();
        await using var connection = await ConnectAsync();
        await connection.GetDatabase().StringSetAsync($"{appId}||legacy", "\"old\"");
        await using var sidecar = await StartAsync(appId);

        var (value, etag) = await sidecar.Client.GetStateAndETagAsync<string>(Store, "legacy", cancellationToken: Ct);

        Assert.Equal("old", value);
        Assert.True(string.IsNullOrEmpty(etag));
    }

    [Fact]
    public async Task An_unreachable_server_fails_start_up_with_one_line_naming_the_file()
    {
        var port = DaprGame.Sidecar.Hosting.SidecarHost.FreePort();

        var e = await Assert.ThrowsAsync<DaprGame.Sidecar.Components.ResourceException>(() => StartWithAsync(new() { ["redisHost"] = $"127.0.0.1:{port}" }));

        Assert.EndsWith("state.yaml", e.File, StringComparison.Ordinal);
        Assert.Contains("'statestore' (state.redis) failed to initialise", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("enableTLS", "true", "enableTLS=true is not supported")]
    [InlineData("redisType", "cluster", "redisType 'cluster' is not supported")]
    public async Task Unsupported_settings_are_refused_by_name(string field, string value, string expected)
    {
        var e = await Assert.ThrowsAsync<DaprGame.Sidecar.Components.ResourceException>(() => StartWithAsync(new() { ["redisHost"] = redis.Host, [field] = value }));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private static Task<DaprGame.Testing.TestSidecar> StartWithAsync(Dictionary<string, string> metadata) =>
        DaprGame.Testing.TestSidecar.StartAsync(NewAppId(), new Dictionary<string, string>
        {
            ["state.yaml"] = DaprGame.Testing.Yaml.Component(Store, "state.redis", metadata),
        });

    private Task<ConnectionMultiplexer> ConnectAsync() =>
        ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { redis.Host }, AllowAdmin = true, ConnectTimeout = 5000 });
}
