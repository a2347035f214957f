using System.Buffers.Text;
using System.Net;

namespace DaprGame.Gateway.Tests.Auth;

/// <summary>Signing-key rotation across replicas, retention of retired keys and the JWKS document.</summary>
public sealed class KeyRotationTests
{
    [Fact]
    public async Task Rotation_on_one_replica_is_honoured_by_another_and_retired_keys_expire()
    {
        await using var cluster = await AuthCluster.StartAsync(replicas: 2, settings: new Dictionary<string, string> { ["Auth:Admins"] = "root" });
        var a = cluster.Client(0);
        var b = cluster.Client(1);
        var admin = await a.RegisterAsync("root");
        var before = await a.RegisterAsync("pat");
        var oldKid = TokenForge.Kid(before.AccessToken);
        // B caches the ring as it is before the rotation.
        Assert.Equal(HttpStatusCode.OK, (await b.MeAsync(before.AccessToken)).StatusCode);

        var rotate = await a.SendAsync(HttpMethod.Post, "/v1/auth/keys/rotate", admin.AccessToken);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var rotation = TokenForge.Json(await rotate.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var newKid = rotation.GetProperty("currentKid").GetString()!;
        Assert.NotEqual(oldKid, newKid);
        Assert.Equal([newKid, oldKid], rotation.GetProperty("kids").EnumerateArray().Select(k => k.GetString()));

        // New tokens use the new key; B accepts them (unknown kid → one ring refresh) and still accepts old ones.
        var after = await a.LoginAsync("pat");
        Assert.Equal(newKid, TokenForge.Kid(after.AccessToken));
        Assert.Equal(HttpStatusCode.OK, (await b.MeAsync(after.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.MeAsync(before.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.MeAsync(before.AccessToken)).StatusCode);
        Assert.Equal([newKid, oldKid], await JwksKidsAsync(b));

        // After its periodic ring refresh B signs with the new key too.
        cluster.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(newKid, TokenForge.Kid((await b.LoginAsync("pat")).AccessToken));

        // The old token lives until its own expiry (plus skew), then is refused.
        cluster.Time.Advance(TimeSpan.FromSeconds(before.ExpiresIn + 30 - 31 - 1));
        Assert.Equal(HttpStatusCode.OK, (await b.MeAsync(before.AccessToken)).StatusCode);
        cluster.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.Unauthorized, (await b.MeAsync(before.AccessToken)).StatusCode);

        // Past lifetime + skew + one refresh interval after retirement, the old key no longer verifies anything,
        // even a fresh token signed with it, and the JWKS stops listing it.
        var (_, keys) = await cluster.ReadKeyRingAsync();
        cluster.Time.Advance(TimeSpan.FromSeconds(31));
        var fresh = await a.LoginAsync("pat");
        var (header, payload) = TokenForge.Split(fresh.AccessToken);
        var signedByRetired = TokenForge.Es256(keys[oldKid], header.With(h => h["kid"] = oldKid), payload);
        Assert.Equal(HttpStatusCode.OK, (await a.MeAsync(fresh.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await a.MeAsync(signedByRetired)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await b.MeAsync(signedByRetired)).StatusCode);
        Assert.Equal([newKid], await JwksKidsAsync(a));
    }

    [Fact]
    public async Task Replicas_starting_together_agree_on_one_key()
    {
        await using var cluster = await AuthCluster.StartAsync(replicas: 2);
        var tokens = await Task.WhenAll(
            cluster.Client(0).GuestAsync("device-together-0"),
            cluster.Client(1).GuestAsync("device-together-1"),
            cluster.Client(0).GuestAsync("device-together-2"),
            cluster.Client(1).GuestAsync("device-together-3"));
        Assert.Single(tokens.Select(t => TokenForge.Kid(t.AccessToken)).Distinct());
        foreach (var t in tokens)
        {
            Assert.Equal(HttpStatusCode.OK, (await cluster.Client(0).MeAsync(t.AccessToken)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await cluster.Client(1).MeAsync(t.AccessToken)).StatusCode);
        }
    }

    [Fact]
    public async Task The_jwks_lists_public_ec_keys_that_verify_issued_tokens()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var client = cluster.Client();
        var tokens = await client.RegisterAsync("verifier");
        var response = await client.Http.GetAsync("/.well-known/jwks.json", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("\"d\"", text, StringComparison.Ordinal);
        var key = Assert.Single(TokenForge.Json(text).GetProperty("keys").EnumerateArray());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.Equal("P-256", key.GetProperty("crv").GetString());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.Equal(TokenForge.Kid(tokens.AccessToken), key.GetProperty("kid").GetString());

        // An outside verifier holding only the JWKS checks our signature.
        using var ecdsa = System.Security.Cryptography.ECDsa.Create(new System.Security.Cryptography.ECParameters
        {
            Curve = System.Security.Cryptography.ECCurve.NamedCurves.nistP256,
            Q = new() { X = Base64Url.DecodeFromChars(key.GetProperty("x").GetString()), Y = Base64Url.DecodeFromChars(key.GetProperty("y").GetString()) },
        });
        var parts = tokens.AccessToken.Split('.');
        Assert.True(ecdsa.VerifyData(System.Text.Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]),
            System.Security.Cryptography.HashAlgorithmName.SHA256));
    }

    private static async Task<string?[]> JwksKidsAsync(AuthClient client)
    {
        var json = TokenForge.Json(await client.Http.GetStringAsync("/.well-known/jwks.json", TestContext.Current.CancellationToken));
        return [.. json.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString())];
    }
}
