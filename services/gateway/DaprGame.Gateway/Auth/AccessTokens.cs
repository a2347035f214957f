using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// Issues access tokens: compact JWS, ES256 (P-256, IEEE P1363 signature), header <c>{alg, typ, kid}</c>, claims
/// iss, aud, sub, sid, name, roles, iat, nbf, exp, jti.
/// </summary>
internal sealed class AccessTokenIssuer(SigningKeyRing ring, TimeProvider time, IOptions<AuthOptions> options)
{
    private readonly AuthOptions _options = options.Value;

    public async Task<(string Token, DateTimeOffset ExpiresAt)> IssueAsync(
        string playerId, string sessionId, string displayName, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        var key = await ring.GetCurrentAsync(cancellationToken);
        // Whole seconds: the numeric dates of a JWT are seconds, and rounding here keeps expiresIn exact.
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var expires = now + _options.AccessTokenLifetime;

        var token = Jwt.Sign(key, Jwt.Type, w =>
        {
            w.WriteString("iss", _options.Issuer);
            w.WriteString("aud", _options.Audience);
            w.WriteString("sub", playerId);
            w.WriteString("sid", sessionId);
            w.WriteString("name", displayName);
            w.WriteStartArray("roles");
            foreach (var role in roles)
            {
                w.WriteStringValue(role);
            }
            w.WriteEndArray();
            w.WriteNumber("iat", now.ToUnixTimeSeconds());
            w.WriteNumber("nbf", now.ToUnixTimeSeconds());
            w.WriteNumber("exp", expires.ToUnixTimeSeconds());
            w.WriteString("jti", AuthIds.NewTokenId());
        });
        return (token, expires);
    }
}

/// <summary>The compact JWS the gateway signs (access tokens, match tickets): ES256 with a key of the ring.</summary>
internal static class Jwt
{
    public const string Algorithm = "ES256";
    public const string Type = "JWT";

    /// <summary>Longest token accepted; ours are well under 1 KB, and parsing an attacker's megabyte is wasted work.</summary>
    public const int MaxLength = 4096;

    /// <summary>Header <c>{alg, typ, kid}</c>, the claims <paramref name="claims"/> writes, and the P-256 signature (IEEE P1363).</summary>
    public static string Sign(SigningKey key, string type, Action<Utf8JsonWriter> claims)
    {
        var header = Json(w =>
        {
            w.WriteString("alg", Algorithm);
            w.WriteString("typ", type);
            w.WriteString("kid", key.Kid);
        });
        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(Json(claims));
        var signature = key.Key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// Verifies access tokens. Refuses before any cryptography what is malformed or oversize; accepts only exactly
/// <c>ES256</c> (so <c>none</c> and HS256 keyed with the public key fail), a known retained <c>kid</c>, a valid
/// signature, <c>typ</c> JWT, our issuer and audience, a lifetime within the skew, and a session not revoked.
/// </summary>
internal sealed class AccessTokenValidator(
    SigningKeyRing ring,
    SessionRevocations sessions,
    TimeProvider time,
    IOptions<AuthOptions> options,
    GatewayAuthMetrics metrics,
    ILogger<AccessTokenValidator> logger) : IAccessTokenValidator
{
    private static readonly JsonDocumentOptions StrictJson = new() { MaxDepth = 4, AllowDuplicateProperties = false };

    private readonly AuthOptions _options = options.Value;

    public async ValueTask<AccessTokenCheck> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var check = await CheckAsync(token, cancellationToken);
        if (check.Error is { } reason)
        {
            metrics.TokenRefused(reason);
            GatewayAuthLog.TokenRefused(logger, reason);
        }
        return check;
    }

    private async ValueTask<AccessTokenCheck> CheckAsync(string token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return AccessTokenCheck.Invalid("malformed");
        }
        if (token.Length > Jwt.MaxLength)
        {
            return AccessTokenCheck.Invalid("oversize");
        }
        var firstDot = token.IndexOf('.', StringComparison.Ordinal);
        var secondDot = firstDot < 0 ? -1 : token.IndexOf('.', firstDot + 1);
        if (firstDot <= 0 || secondDot <= firstDot + 1 || secondDot == token.Length - 1 || token.IndexOf('.', secondDot + 1) >= 0)
        {
            return AccessTokenCheck.Invalid("malformed");
        }
        if (Decode(token.AsSpan(0, firstDot)) is not { } headerBytes
            || Decode(token.AsSpan(firstDot + 1, secondDot - firstDot - 1)) is not { } payloadBytes
            || Decode(token.AsSpan(secondDot + 1)) is not { } signature)
        {
            return AccessTokenCheck.Invalid("malformed");
        }

        string kid;
        using (var header = Parse(headerBytes))
        {
            if (header is null || header.RootElement.ValueKind != JsonValueKind.Object)
            {
                return AccessTokenCheck.Invalid("malformed");
            }
            var root = header.RootElement;
            if (String(root, "alg") != Jwt.Algorithm)
            {
                return AccessTokenCheck.Invalid("algorithm");
            }
            if (String(root, "typ") != Jwt.Type)
            {
                return AccessTokenCheck.Invalid("type");
            }
            // A "crit" header asks us to understand extensions we do not implement (RFC 7515 §4.1.11).
            if (String(root, "kid") is not { Length: > 0 and <= 64 } k || root.TryGetProperty("crit", out _))
            {
                return AccessTokenCheck.Invalid("malformed");
            }
            kid = k;
        }

        var key = await ring.FindAsync(kid, cancellationToken);
        if (key is null)
        {
            return AccessTokenCheck.Invalid("unknown_kid");
        }
        if (signature.Length != 64
            || !key.Key.VerifyData(Encoding.ASCII.GetBytes(token, 0, secondDot), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            return AccessTokenCheck.Invalid("signature");
        }

        PlayerIdentity identity;
        using (var payload = Parse(payloadBytes))
        {
            if (payload is null || payload.RootElement.ValueKind != JsonValueKind.Object)
            {
                return AccessTokenCheck.Invalid("malformed");
            }
            var root = payload.RootElement;
            if (String(root, "iss") != _options.Issuer)
            {
                return AccessTokenCheck.Invalid("issuer");
            }
            if (!HasAudience(root, _options.Audience))
            {
                return AccessTokenCheck.Invalid("audience");
            }
            if (Seconds(root, "exp") is not { } exp || Seconds(root, "nbf") is not { } nbf || Seconds(root, "iat") is null)
            {
                return AccessTokenCheck.Invalid("claims");
            }
            var now = time.GetUtcNow();
            var skew = _options.EffectiveClockSkew;
            if (now >= exp + skew)
            {
                return AccessTokenCheck.Invalid("expired");
            }
            if (now < nbf - skew)
            {
                return AccessTokenCheck.Invalid("not_yet_valid");
            }
            if (String(root, "sub") is not { } sub || !AuthIds.IsPlayerId(sub)
                || String(root, "sid") is not { } sid || !AuthIds.IsSessionId(sid)
                || String(root, "name") is not { } name
                || Roles(root) is not { } roles)
            {
                return AccessTokenCheck.Invalid("claims");
            }
            identity = new PlayerIdentity(sub, sid, name, roles, exp);
        }

        if (!await sessions.IsActiveAsync(identity.PlayerId, identity.SessionId, cancellationToken))
        {
            return AccessTokenCheck.Invalid("revoked");
        }
        return AccessTokenCheck.Valid(identity);
    }

    private static byte[]? Decode(ReadOnlySpan<char> part)
    {
        try
        {
            return Base64Url.DecodeFromChars(part);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static JsonDocument? Parse(byte[] json)
    {
        try
        {
            return JsonDocument.Parse(json, StrictJson);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Seconds(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds)
            && seconds is >= 0 and < 253402300800
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private static bool HasAudience(JsonElement root, string audience)
    {
        if (!root.TryGetProperty("aud", out var aud))
        {
            return false;
        }
        if (aud.ValueKind == JsonValueKind.String)
        {
            return aud.GetString() == audience;
        }
        if (aud.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in aud.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && item.GetString() == audience)
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static string[]? Roles(JsonElement root)
    {
        if (!root.TryGetProperty("roles", out var roles) || roles.ValueKind != JsonValueKind.Array || roles.GetArrayLength() > 16)
        {
            return null;
        }
        var result = new string[roles.GetArrayLength()];
        var i = 0;
        foreach (var role in roles.EnumerateArray())
        {
            if (role.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            result[i++] = role.GetString()!;
        }
        return result;
    }
}
