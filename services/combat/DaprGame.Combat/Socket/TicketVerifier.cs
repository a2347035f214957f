using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapr.Client;
using DaprGame.Combat.Infrastructure;
using DaprGame.Hosting;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Socket;

/// <summary>A verified ticket (player and match) or why it was refused.</summary>
public readonly record struct TicketCheck(string? PlayerId, string? MatchId, string? Error)
{
    public static TicketCheck Refused(string error) => new(null, null, error);
}

/// <summary>
/// The gateway's public keys, fetched by service invocation of its <c>/.well-known/jwks.json</c>. Cached; re-read when a
/// ticket names an unknown kid (at most once per <see cref="UnknownKidRefresh"/>, so forged kids cannot flood the
/// gateway) and when the cache is older than <see cref="MaxAge"/> (a retired key stops verifying).
/// </summary>
public sealed class GatewayKeys(DaprEndpoints endpoints, CombatOptions options, TimeProvider time, ILogger<GatewayKeys> logger) : IDisposable
{
    public static readonly TimeSpan UnknownKidRefresh = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HttpClient _http = DaprClient.CreateInvokeHttpClient(options.TicketApp, endpoints.Http, endpoints.ApiToken);
    private volatile Dictionary<string, ECDsa> _keys = new Dictionary<string, ECDsa>();
    private DateTimeOffset _loadedAt = DateTimeOffset.MinValue;

    public async ValueTask<ECDsa?> FindAsync(string kid, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _loadedAt < MaxAge && _keys.TryGetValue(kid, out var key))
        {
            return key;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_keys.TryGetValue(kid, out key) && now - _loadedAt < MaxAge)
            {
                return key;
            }
            if (now - _loadedAt >= UnknownKidRefresh || now - _loadedAt >= MaxAge)
            {
                await LoadAsync(cancellationToken);
            }
            return _keys.TryGetValue(kid, out key) ? key : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _gate.Dispose();
        _http.Dispose();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        _loadedAt = time.GetUtcNow();
        try
        {
            using var response = await _http.GetAsync(".well-known/jwks.json", cancellationToken);
            response.EnsureSuccessStatusCode();
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            var keys = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
            foreach (var jwk in document.RootElement.GetProperty("keys").EnumerateArray())
            {
                if (Text(jwk, "kty") != "EC" || Text(jwk, "crv") != "P-256" || Text(jwk, "kid") is not { } kid
                    || Text(jwk, "x") is not { } x || Text(jwk, "y") is not { } y)
                {
                    continue;
                }
                var key = ECDsa.Create(new ECParameters
                {
                    Curve = ECCurve.NamedCurves.nistP256,
                    Q = new ECPoint { X = Base64Url.DecodeFromChars(x), Y = Base64Url.DecodeFromChars(y) },
                });
                keys[kid] = key;
            }
            _keys = keys;
        }
        catch (Exception error) when (error is HttpRequestException or JsonException or KeyNotFoundException or FormatException or CryptographicException)
        {
            // Keep the keys we had: a gateway hiccup must not refuse every ticket.
            CombatLog.KeysFailed(logger, error, options.TicketApp);
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>
/// Verifies match tickets (<see cref="CombatTickets"/>): compact JWS, exactly ES256, a kid the gateway publishes, a valid
/// signature, our issuer, audience <c>combat</c>, within its lifetime (5 s of skew), a player and a match, and never
/// seen before (a ticket is single-use: a replayed ticket is refused).
/// </summary>
public sealed class TicketVerifier(GatewayKeys keys, CombatOptions options, TimeProvider time)
{
    private const int MaxLength = 2048;
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(5);
    private static readonly JsonDocumentOptions StrictJson = new() { MaxDepth = 4, AllowDuplicateProperties = false };

    private readonly ConcurrentDictionary<string, DateTimeOffset> _used = new(StringComparer.Ordinal);

    public async ValueTask<TicketCheck> VerifyAsync(string? ticket, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(ticket) || ticket.Length > MaxLength)
        {
            return TicketCheck.Refused("malformed");
        }
        var parts = ticket.Split('.');
        if (parts.Length != 3 || Decode(parts[0]) is not { } headerBytes || Decode(parts[1]) is not { } payloadBytes || Decode(parts[2]) is not { } signature)
        {
            return TicketCheck.Refused("malformed");
        }
        string kid;
        using (var header = Parse(headerBytes))
        {
            if (header?.RootElement is not { ValueKind: JsonValueKind.Object } h)
            {
                return TicketCheck.Refused("malformed");
            }
            if (Text(h, "alg") != "ES256")
            {
                return TicketCheck.Refused("algorithm");
            }
            if (Text(h, "kid") is not { Length: > 0 and <= 64 } k || h.TryGetProperty("crit", out _))
            {
                return TicketCheck.Refused("malformed");
            }
            kid = k;
        }
        if (await keys.FindAsync(kid, cancellationToken) is not { } key)
        {
            return TicketCheck.Refused("unknown_kid");
        }
        if (signature.Length != 64 || !key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            return TicketCheck.Refused("signature");
        }
        using var payload = Parse(payloadBytes);
        if (payload?.RootElement is not { ValueKind: JsonValueKind.Object } p)
        {
            return TicketCheck.Refused("malformed");
        }
        if (Text(p, "iss") != options.TicketIssuer)
        {
            return TicketCheck.Refused("issuer");
        }
        if (Text(p, "aud") != CombatTickets.Audience)
        {
            return TicketCheck.Refused("audience");
        }
        if (Seconds(p, "exp") is not { } exp || Seconds(p, "nbf") is not { } nbf)
        {
            return TicketCheck.Refused("claims");
        }
        var now = time.GetUtcNow();
        if (now >= exp + Skew)
        {
            return TicketCheck.Refused("expired");
        }
        if (now < nbf - Skew)
        {
            return TicketCheck.Refused("not_yet_valid");
        }
        if (Text(p, "sub") is not { Length: > 0 and <= 64 } player || Text(p, CombatTickets.MatchClaim) is not { Length: > 0 and <= 64 } match
            || Text(p, "jti") is not { Length: > 0 and <= 64 } jti)
        {
            return TicketCheck.Refused("claims");
        }
        if (!_used.TryAdd(jti, exp + Skew))
        {
            return TicketCheck.Refused("replayed");
        }
        Purge(now);
        return new TicketCheck(player, match, null);
    }

    private void Purge(DateTimeOffset now)
    {
        if (_used.Count < 1024)
        {
            return;
        }
        foreach (var (jti, until) in _used)
        {
            if (until < now)
            {
                _used.TryRemove(jti, out _);
            }
        }
    }

    private static byte[]? Decode(string part)
    {
        try
        {
            return part.Length == 0 ? null : Base64Url.DecodeFromChars(part);
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

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static DateTimeOffset? Seconds(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var s) && s is >= 0 and < 253402300800
            ? DateTimeOffset.FromUnixTimeSeconds(s)
            : null;
}
