using Dapr;
using System.Globalization;
using System.Text.Json;
using Dapr.Client;
using DaprGame.Sidecar.Hosting;
using DaprGame.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;
using GrpcProto = Dapr.Client.Autogen.Grpc.v1;

namespace DaprGame.Sidecar.Tests.State;

/// <summary>
/// One body of state-store conformance cases, run against every store kind the sidecar implements through the
/// official <see cref="DaprClient"/> only. Each derived class names its component and states where its real Dapr
/// component differs (first-write, persistence); the cases themselves are identical, so they could run against
/// real daprd with the same components.
/// </summary>
public abstract class StateStoreConformance
{
    protected const string Store = "statestore";

    /// <summary>A whole second, so stores that keep second precision (SQLite) expire exactly on the boundary.</summary>
    private static readonly DateTimeOffset FakeStart = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    protected abstract string ComponentType { get; }

    protected virtual string ComponentVersion => "v1";

    /// <summary>Component metadata; the same app-id always maps to the same storage, so a restart finds it again.</summary>
    protected abstract IReadOnlyDictionary<string, string> ComponentMetadata(string appId);

    /// <summary>Whether expiry follows the sidecar's <see cref="TimeProvider"/> (Redis expires keys on the server's clock).</summary>
    protected virtual bool ExpiryFollowsSidecarClock => true;

    /// <summary>Whether a value survives the sidecar (false only for state.in-memory).</summary>
    protected virtual bool Persistent => true;

    /// <summary>
    /// What real Dapr does on a first-write save without an ETag to an existing key: null when it overwrites, else the
    /// gRPC status the SDK's <see cref="DaprException"/> carries.
    /// </summary>
    protected abstract StatusCode? FirstWriteConflict(bool keyWrittenWithFirstWrite);

    /// <summary>The stored keys under <paramref name="appId"/>'s prefix, read from the backing store directly; null where it cannot be inspected.</summary>
    protected abstract Task<IReadOnlyList<string>?> RawKeysAsync(string appId);

    /// <summary>For stores whose expiry runs on the server clock: asserts the server's own TTL on the key.</summary>
    protected virtual Task AssertServerTtlAsync(string appId, string key, TimeSpan ttl) => Task.CompletedTask;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected static string NewAppId() => "app-" + Guid.NewGuid().ToString("N")[..10];

    protected Task<TestSidecar> StartAsync(string appId, TimeProvider? time = null) =>
        TestSidecar.StartAsync(
            appId,
            new Dictionary<string, string> { ["state.yaml"] = Yaml.Component(Store, ComponentType, ComponentMetadata(appId), ComponentVersion) },
            environment: time is null ? null : new SidecarEnvironment { Time = time });

    protected static StatusCode StatusOf(DaprException e) => Assert.IsType<RpcException>(e.InnerException).StatusCode;

    [Fact]
    public async Task Saves_without_etag_are_last_write_wins_by_default()
    {
        await using var sidecar = await StartAsync(NewAppId());
        var c = sidecar.Client;

        await c.SaveStateAsync(Store, "k", "one", cancellationToken: Ct);
        await c.SaveStateAsync(Store, "k", "two", cancellationToken: Ct);

        Assert.Equal("two", await c.GetStateAsync<string>(Store, "k", cancellationToken: Ct));
    }

    [Fact]
    public async Task First_write_without_etag_on_an_existing_key_behaves_as_the_dapr_component()
    {
        await using var sidecar = await StartAsync(NewAppId());
        var c = sidecar.Client;
        var firstWrite = new StateOptions { Concurrency = ConcurrencyMode.FirstWrite };

        // A new key is always accepted under first-write.
        await c.SaveStateAsync(Store, "fw", "one", firstWrite, cancellationToken: Ct);
        await c.SaveStateAsync(Store, "lw", "one", cancellationToken: Ct);

        await AssertSecondFirstWriteAsync(c, "fw", FirstWriteConflict(keyWrittenWithFirstWrite: true));
        await AssertSecondFirstWriteAsync(c, "lw", FirstWriteConflict(keyWrittenWithFirstWrite: false));
    }

    private static async Task AssertSecondFirstWriteAsync(DaprClient c, string key, StatusCode? expected)
    {
        var save = () => c.SaveStateAsync(Store, key, "two", new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, cancellationToken: Ct);
        if (expected is null)
        {
            await save();
            Assert.Equal("two", await c.GetStateAsync<string>(Store, key, cancellationToken: Ct));
            return;
        }
        var e = await Assert.ThrowsAsync<DaprException>(save);
        Assert.Equal(expected, StatusOf(e));
        Assert.Equal("one", await c.GetStateAsync<string>(Store, key, cancellationToken: Ct));
    }

    [Fact]
    public async Task TrySave_is_false_on_a_stale_etag_and_true_on_the_current_one()
    {
        await using var sidecar = await StartAsync(NewAppId());
        var c = sidecar.Client;
        await c.SaveStateAsync(Store, "k", "one", cancellationToken: Ct);
        var (_, stale) = await c.GetStateAndETagAsync<string>(Store, "k", cancellationToken: Ct);
        await c.SaveStateAsync(Store, "k", "two", cancellationToken: Ct);
        var (_, current) = await c.GetStateAndETagAsync<string>(Store, "k", cancellationToken: Ct);
        Assert.NotEqual(stale, current);

        Assert.False(await c.TrySaveStateAsync(Store, "k", "three", stale, cancellationToken: Ct));
        Assert.Equal("two", await c.GetStateAsync<string>(Store, "k", cancellationToken: Ct));

        Assert.True(await c.TrySaveStateAsync(Store, "k", "four", current, cancellationToken: Ct));
        var (value, after) = await c.GetStateAndETagAsync<string>(Store, "k", cancellationToken: Ct);
        Assert.Equal("four", value);
        Assert.NotEqual(current, after);
    }

    [Fact]
    public async Task TryDelete_is_false_on_a_stale_etag_and_true_on_the_current_one()
    {
        await using var sidecar = await StartAsync(NewAppId());
        var c = sidecar.Client;
        await c.SaveStateAsync(Store, "k", "one", cancellationToken: Ct);
        var (_, stale) = await c.GetStateAndETagAsync<string>(Store, "k", cancellationToken: Ct);
        await c.SaveStateAsync(Store, "k", "two", cancellationToken: Ct);
        var (_, current) = await c.GetStateAndETagAsync<string>(Store, "k", cancellationToken: Ct);

        Assert.False(await c.TryDeleteStateAsync(Store, "k", stale, cancellationToken: Ct));
        Assert.Equal("two", await c.GetStateAsync<string>(Store, "k", cancellationToken: Ct));

        Assert.True(await c.TryDeleteStateAsync(Store, "k", current, cancellationToken: Ct));
        Assert.Null(await c.GetStateAsync<string>(Store, "k", cancellationToken: Ct));
    }

    [Fact]
    public async Task A_transaction_with_one_stale_etag_throws_and_changes_nothing()
    {
        await using var sidecar = await StartAsync(NewAppId());
        var c = sidecar.Client;
        await c.SaveStateAsync(Store, "a", "a1", cancellationToken: Ct);
        await c.SaveStateAsync(Store, "b", "b1", cancellationToken: Ct);
        var (_, aETag) = await c.GetStateAndETagAsync<string>(Store, "a", cancellationToken: Ct);
        var (_, bStale) = await c.GetStateAndETagAsync<string>(Store, "b", cancellationToken: Ct);
        await c.SaveStateAsync(Store, "b", "b2", cancellationToken: Ct);
        var (_, bETag) = await c.GetStateAndETagAsync<string>(Store, "b", cancellationToken: Ct);

        var e = await Assert.ThrowsAsync<DaprException>(() => c.ExecuteStateTransactionAsync(Store,
        [
            new StateTransactionRequest("a", Json("a2"), StateOperationType.Upsert, aETag),
            new StateTransactionRequest("c", Json("c1"), StateOperationType.Upsert),
            new StateTransactionRequest("b", null, StateOperationType.Delete, bStale),
        ], cancellationToken: Ct));

        // daprd reports every transaction failure, an ETag mismatch included, as Internal (contract §1.5).
        Assert.Equal(StatusCode.Internal, StatusOf(e));
        Assert.Equal(("a1", aETag), await c.GetStateAndETagAsync<string>(Store, "a", cancellationToken: Ct));
        Assert.Equal(("b2", bETag), await c.GetStateAndETagAsync<string>(Store, "b", cancellationToken: Ct));
        Assert.Null(await c.GetStateAsync<string>(Store, "c", cancellationToken: Ct));
    }

    [Fact]
    public async Task A_transaction_with_current_etags_applies_every_operation()
    {
        await using var sidecar = await StartAsync(NewAppId());
        var c = sidecar.Client;
        await c.SaveStateAsync(Store, "a", "a1", cancellationToken: Ct);
        await c.SaveStateAsync(Store, "b", "b1", cancellationToken: Ct);
        var (_, aETag) = await c.GetStateAndETagAsync<string>(Store, "a", cancellationToken: Ct);
        var (_, bETag) = await c.GetStateAndETagAsync<string>(Store, "b", cancellationToken: Ct);

        await c.ExecuteStateTransactionAsync(Store,
        [
            new StateTransactionRequest("a", Json("a2"), StateOperationType.Upsert, aETag),
            new StateTransactionRequest("c", Json("c1"), StateOperationType.Upsert),
            new StateTransactionRequest("b", null, StateOperationType.Delete, bETag),
            new StateTransactionRequest("c", Json("c2"), StateOperationType.Upsert),
        ], cancellationToken: Ct);

        var (a, aAfter) = await c.GetStateAndETagAsync<string>(Store, "a", cancellationToken: Ct);
        Assert.Equal("a2", a);
        Assert.NotEqual(aETag, aAfter);
        Assert.Null(await c.GetStateAsync<string>(Store, "b", cancellationToken: Ct));
        Assert.Equal("c2", await c.GetStateAsync<string>(Store, "c", cancellationToken: Ct));
    }

    [Fact]
    public async Task TtlInSeconds_expires_the_value_and_reports_ttlExpireTime()
    {
        var fake = new FakeTimeProvider(FakeStart);
        var appId = NewAppId();
        await using var sidecar = await StartAsync(appId, ExpiryFollowsSidecarClock ? fake : null);
        var c = sidecar.Client;
        var ttl = new Dictionary<string, string> { ["ttlInSeconds"] = "60" };

        await c.SaveStateAsync(Store, "k", "v", metadata: ttl, cancellationToken: Ct);
        await c.SaveStateAsync(Store, "forever", "v", cancellationToken: Ct);

        Assert.Equal("v", await c.GetStateAsync<string>(Store, "k", cancellationToken: Ct));
        var reported = await GetStateMetadataAsync(sidecar, "k");
        var expireTime = DateTimeOffset.Parse(reported["ttlExpireTime"], CultureInfo.InvariantCulture);
        Assert.False((await GetStateMetadataAsync(sidecar, "forever")).ContainsKey("ttlExpireTime"));

        if (!ExpiryFollowsSidecarClock)
        {
            var now = DateTimeOffset.UtcNow;
            Assert.InRange(expireTime, now.AddSeconds(-2), now.AddSeconds(61));
            await AssertServerTtlAsync(appId, "k", TimeSpan.FromSeconds(60));
            return;
        }

        Assert.Equal(FakeStart.AddSeconds(60), expireTime);
        fake.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("v", await c.GetStateAsync<string>(Store, "k", cancellationToken: Ct));
        fake.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await c.GetStateAsync<string>(Store, "k", cancellationToken: Ct));
        var bulk = await c.GetBulkStateAsync(Store, ["k", "forever"], parallelism: null, cancellationToken: Ct);
        Assert.True(string.IsNullOrEmpty(bulk.Single(i => i.Key == "k").Value));
        Assert.Equal("\"v\"", bulk.Single(i => i.Key == "forever").Value);
    }

    [Fact]
    public async Task Bulk_get_returns_an_empty_item_for_a_missing_key()
    {
        await using var sidecar = await StartAsync(NewAppId());
        var c = sidecar.Client;
        await c.SaveStateAsync(Store, "a", "a1", cancellationToken: Ct);
        await c.SaveStateAsync(Store, "b", "b1", cancellationToken: Ct);

        var items = await c.GetBulkStateAsync(Store, ["a", "missing", "b"], parallelism: null, cancellationToken: Ct);

        Assert.Equal(3, items.Count);
        Assert.Equal("\"a1\"", items.Single(i => i.Key == "a").Value);
        Assert.Equal("\"b1\"", items.Single(i => i.Key == "b").Value);
        var missing = items.Single(i => i.Key == "missing");
        Assert.True(string.IsNullOrEmpty(missing.Value));
        Assert.True(string.IsNullOrEmpty(missing.ETag));
    }

    [Fact]
    public async Task A_key_containing_double_pipe_is_rejected_and_nothing_is_stored()
    {
        var appId = NewAppId();
        await using var sidecar = await StartAsync(appId);
        var c = sidecar.Client;

        var save = await Assert.ThrowsAsync<DaprException>(() => c.SaveStateAsync(Store, "a||b", "x", cancellationToken: Ct));
        Assert.Equal(StatusCode.InvalidArgument, StatusOf(save));
        var get = await Assert.ThrowsAsync<DaprException>(() => c.GetStateAsync<string>(Store, "a||b", cancellationToken: Ct));
        Assert.Equal(StatusCode.InvalidArgument, StatusOf(get));

        Assert.Null(await c.GetStateAsync<string>(Store, "a", cancellationToken: Ct));
        Assert.Null(await c.GetStateAsync<string>(Store, "b", cancellationToken: Ct));
        if (await RawKeysAsync(appId) is { } raw)
        {
            Assert.Empty(raw);
        }
    }

    [Fact]
    public async Task A_value_survives_a_sidecar_restart_on_the_same_component()
    {
        var appId = NewAppId();
        await using (var first = await StartAsync(appId))
        {
            await first.Client.SaveStateAsync(Store, "k", "kept", cancellationToken: Ct);
        }

        await using var second = await StartAsync(appId);
        var value = await second.Client.GetStateAsync<string>(Store, "k", cancellationToken: Ct);

        // state.in-memory is per sidecar process in Dapr: a restart loses it (contract §4.4).
        Assert.Equal(Persistent ? "kept" : null, value);
    }

    protected static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, JsonSerializerOptions.Web);

    /// <summary>
    /// GetState's response metadata (<c>ttlExpireTime</c>). DaprClient drops it, so this reads it with the
    /// generated gRPC client from Dapr.Protos, the same wire client the SDK wraps.
    /// </summary>
    protected static async Task<IReadOnlyDictionary<string, string>> GetStateMetadataAsync(TestSidecar sidecar, string key)
    {
        using var channel = GrpcChannel.ForAddress(sidecar.Host.GrpcEndpoint);
        var client = new GrpcProto.Dapr.DaprClient(channel);
        var response = await client.GetStateAsync(new GrpcProto.GetStateRequest { StoreName = Store, Key = key }, cancellationToken: Ct);
        return response.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }
}
