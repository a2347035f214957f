using System.Text;
using DaprGame.Testing;
using DaprGame.Testing.Servers;
using StackExchange.Redis;
using static DaprGame.Sidecar.Tests.State.Encryption.EncryptionRig;

namespace DaprGame.Sidecar.Tests.State.Encryption;

/// <summary>
/// daprd's automatic state encryption over state.redis: the hash's <c>data</c> field holds
/// <c>base64(nonce‖ciphertext‖tag)||keyName</c> verbatim (Redis stores bytes as given), while <c>version</c> (the
/// ETag) is the store's own and unaffected. Also the repository's Redis profile, which turns encryption on.
/// </summary>
public sealed class RedisEncryptionTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_redis_hash_holds_the_ciphertext_with_the_key_name_and_get_returns_the_plaintext()
    {
        const string appId = "enc-redis";
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Host);
        var db = connection.GetDatabase();
        await db.KeyDeleteAsync($"{appId}||k");
        var value = Encoding.UTF8.GetBytes("{\"name\":\"ada\",\"gold\":42}");
        await using var sidecar = await TestSidecar.StartAsync(appId,
            Resources("state.redis", new Dictionary<string, string> { ["redisHost"] = redis.Host }, Keys(("key-a", KeyA))));

        await sidecar.Client.SaveByteStateAsync(Store, "k", value, cancellationToken: Ct);
        await sidecar.Client.SaveByteStateAsync(Store, "k", value, cancellationToken: Ct);

        var fields = (await db.HashGetAllAsync($"{appId}||k")).ToDictionary(e => (string)e.Name!, e => e.Value);
        var data = (byte[])fields["data"]!;
        Assert.False(Contains(data, "ada"), "Redis must not hold the plaintext");
        Assert.EndsWith("||key-a", Encoding.UTF8.GetString(data), StringComparison.Ordinal);
        var (plaintext, keyName) = Open(data, KeyA);
        Assert.Equal("key-a", keyName);
        Assert.Equal(value, plaintext);
        Assert.Equal("2", (string?)fields["version"]);
        var (read, etag) = await sidecar.Client.GetStateAndETagAsync<Dictionary<string, object>>(Store, "k", cancellationToken: Ct);
        Assert.Equal("ada", read["name"].ToString());
        Assert.Equal("2", etag);
    }

    [Fact]
    public async Task The_redis_profile_encrypts_state_with_its_secret_store_key()
    {
        const string appId = "enc-profile";
        var folder = Directory.CreateTempSubdirectory("daprgame-enc-profile-").FullName;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Host);
            var db = connection.GetDatabase();
            await db.KeyDeleteAsync($"{appId}||k");
            await using var sidecar = await TestSidecar.StartAsync(appId, LocalCluster.ProfileResources(ClusterProfile.Redis, folder, redis.Host));

            await sidecar.Client.SaveStateAsync("statestore", "k", "profile value", cancellationToken: Ct);

            var (plaintext, keyName) = Open((byte[])(await db.HashGetAsync($"{appId}||k", "data"))!, LocalCluster.TestStateKey);
            Assert.Equal(("DAPRGAME_STATE_KEY", "\"profile value\""), (keyName, Encoding.UTF8.GetString(plaintext)));
            Assert.Equal(LocalCluster.TestStateKey, await sidecar.Client.GetSecretAsync("secretstore", "persistence-backup-key", cancellationToken: Ct) is { } s ? s["persistence-backup-key"] : null);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
