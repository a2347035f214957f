using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace DaprGame.Gateway.Tests.Auth;

/// <summary>RELIABILITY.md #23: crafted access tokens are refused; the same token made correctly is accepted.</summary>
public sealed class TokenAttackTests
{
    [Fact]
    public async Task Crafted_tokens_are_all_refused_and_a_correctly_forged_control_is_accepted()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var client = cluster.Client();
        var tokens = await client.RegisterAsync("mallory");
        var (currentKid, keys) = await cluster.ReadKeyRingAsync();
        var key = keys[currentKid];
        var (header, payload) = TokenForge.Split(tokens.AccessToken);
        var now = cluster.Time.GetUtcNow().ToUnixTimeSeconds();

        // The control: re-signed by us with the real key, fresh claims. If this were refused, every refusal below
        // would prove nothing.
        var control = TokenForge.Es256(key, header, payload.With(p => p["jti"] = "control"));
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(control)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(tokens.AccessToken)).StatusCode);

        var publicKeyDer = key.ExportSubjectPublicKeyInfo();
        var publicKeyPem = Encoding.ASCII.GetBytes(key.ExportSubjectPublicKeyInfoPem());
        using var attackerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parts = tokens.AccessToken.Split('.');
        var tamperedPayload = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.With(p => p["sub"] = "p_aaaaaaaaaaaaaaaa").ToJsonString()))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        var crafted = new Dictionary<string, string>
        {
            ["alg none, empty signature"] = TokenForge.Unsigned(header.With(h => h["alg"] = "none"), payload),
            ["alg none, some signature"] = TokenForge.Unsigned(header.With(h => h["alg"] = "none"), payload) + "AAAA",
            ["alg None (case)"] = TokenForge.Es256(key, header.With(h => h["alg"] = "None"), payload),
            ["HS256 keyed with the public key (DER)"] = TokenForge.Hs256(publicKeyDer, header.With(h => h["alg"] = "HS256"), payload),
            ["HS256 keyed with the public key (PEM)"] = TokenForge.Hs256(publicKeyPem, header.With(h => h["alg"] = "HS256"), payload),
            ["ES384 label on an ES256 signature"] = TokenForge.Es256(key, header.With(h => h["alg"] = "ES384"), payload),
            ["alg missing"] = TokenForge.Es256(key, header.With(h => h.Remove("alg")), payload),
            ["wrong aud"] = TokenForge.Es256(key, header, payload.With(p => p["aud"] = "someone-else")),
            ["aud missing"] = TokenForge.Es256(key, header, payload.With(p => p.Remove("aud"))),
            ["wrong iss"] = TokenForge.Es256(key, header, payload.With(p => p["iss"] = "evil")),
            ["wrong typ"] = TokenForge.Es256(key, header.With(h => h["typ"] = "at+jwt"), payload),
            ["typ missing"] = TokenForge.Es256(key, header.With(h => h.Remove("typ")), payload),
            ["expired by skew + 1 s"] = TokenForge.Es256(key, header, payload.With(p => p["exp"] = now - 31)),
            ["not valid before now + skew + 1 s"] = TokenForge.Es256(key, header, payload.With(p => p["nbf"] = now + 31)),
            ["exp missing"] = TokenForge.Es256(key, header, payload.With(p => p.Remove("exp"))),
            ["exp as a string"] = TokenForge.Es256(key, header, payload.With(p => p["exp"] = (now + 600).ToString(System.Globalization.CultureInfo.InvariantCulture))),
            ["unknown kid, real key"] = TokenForge.Es256(key, header.With(h => h["kid"] = "k_unknownunknown00"), payload),
            ["unknown kid, attacker key"] = TokenForge.Es256(attackerKey, header.With(h => h["kid"] = "k_attackerattacker"), payload),
            ["real kid, attacker key"] = TokenForge.Es256(attackerKey, header, payload),
            ["kid missing"] = TokenForge.Es256(key, header.With(h => h.Remove("kid")), payload),
            ["crit header"] = TokenForge.Es256(key, header.With(h => h["crit"] = new JsonArray("exp")), payload),
            ["tampered payload"] = parts[0] + "." + tamperedPayload + "." + parts[2],
            ["signature from another token"] = parts[0] + "." + parts[1] + "." + control.Split('.')[2],
            ["DER signature"] = TokenForge.Es256(key, header, payload, DSASignatureFormat.Rfc3279DerSequence),
            ["truncated signature"] = tokens.AccessToken[..^4],
            ["oversize (5 KB claim, validly signed)"] = TokenForge.Es256(key, header, payload.With(p => p["pad"] = new string('x', 5000))),
            ["sub not a player id"] = TokenForge.Es256(key, header, payload.With(p => p["sub"] = "../admin")),
            ["sid missing"] = TokenForge.Es256(key, header, payload.With(p => p.Remove("sid"))),
            ["unknown session"] = TokenForge.Es256(key, header, payload.With(p => p["sid"] = "s_aaaaaaaaaaaaaaaaaaaaaaaaaa")),
            ["session of another player"] = TokenForge.Es256(key, header, payload.With(p => p["sub"] = "p_aaaaaaaaaaaaaaaa")),
            ["roles not an array"] = TokenForge.Es256(key, header, payload.With(p => p["roles"] = "admin")),
            ["duplicate alg in header"] = Base64(/*lang=json*/ """{"alg":"ES256","typ":"JWT","kid":"K","alg":"none"}""".Replace("K", currentKid, StringComparison.Ordinal)) + "." + parts[1] + "." + parts[2],
            ["garbage"] = "garbage",
            ["two parts"] = parts[0] + "." + parts[1],
            ["four parts"] = tokens.AccessToken + ".AAAA",
            ["empty parts"] = "..",
            ["not base64url"] = "!!!.???.***",
            ["header not JSON"] = Base64("not json") + "." + parts[1] + "." + parts[2],
            ["header a JSON array"] = Base64("[1,2]") + "." + parts[1] + "." + parts[2],
            ["a refresh token"] = tokens.RefreshToken,
        };

        var accepted = new List<string>();
        foreach (var (name, token) in crafted)
        {
            var response = await client.MeAsync(token);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                accepted.Add($"{name}: {(int)response.StatusCode}");
                continue;
            }
            Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            var (_, code, _) = await AuthClient.ProblemAsync(response);
            Assert.Equal("invalid_token", code);
        }
        Assert.Empty(accepted);
    }

    [Fact]
    public async Task Expiry_and_not_before_are_judged_with_the_skew()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var client = cluster.Client();
        var tokens = await client.RegisterAsync("clocky");
        var (currentKid, keys) = await cluster.ReadKeyRingAsync();
        var (header, payload) = TokenForge.Split(tokens.AccessToken);
        var now = cluster.Time.GetUtcNow().ToUnixTimeSeconds();

        var early = TokenForge.Es256(keys[currentKid], header, payload.With(p => p["nbf"] = now + 29));
        var tooEarly = TokenForge.Es256(keys[currentKid], header, payload.With(p => p["nbf"] = now + 31));
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(early)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.MeAsync(tooEarly)).StatusCode);

        Assert.Equal(900, tokens.ExpiresIn);
        cluster.Time.Advance(TimeSpan.FromSeconds(tokens.ExpiresIn + 29));
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(tokens.AccessToken)).StatusCode);
        cluster.Time.Advance(TimeSpan.FromSeconds(2));
        var expired = await client.MeAsync(tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\"", expired.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_configured_skew_above_30_s_is_capped()
    {
        await using var cluster = await AuthCluster.StartAsync(settings: new Dictionary<string, string> { ["Auth:ClockSkew"] = "00:05:00" });
        var client = cluster.Client();
        var tokens = await client.RegisterAsync("skewed");
        cluster.Time.Advance(TimeSpan.FromSeconds(tokens.ExpiresIn + 31));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.MeAsync(tokens.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task No_token_is_401_without_an_error_code_and_with_a_problem_body()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var response = await cluster.Client().MeAsync(accessToken: null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        var (_, code, body) = await AuthClient.ProblemAsync(response);
        Assert.Equal("invalid_token", code);
        Assert.Equal(401, body.GetProperty("status").GetInt32());
    }

    private static string Base64(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
