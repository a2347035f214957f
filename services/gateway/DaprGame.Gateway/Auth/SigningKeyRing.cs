using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>A usable signing key: the current one signs; retired ones verify until their retention ends.</summary>
internal sealed record SigningKey(string Kid, ECDsa Key, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt);

/// <summary>
/// The ES256 key ring shared by every gateway replica through the state store (<c>auth-keyring</c>). The first replica
/// to need it creates it with a first-write save, so replicas starting together agree on one key. Each replica caches
/// the ring and re-reads it every <see cref="AuthOptions.KeyRingRefreshInterval"/>, and once (rate-limited) when a
/// token names a kid it does not know, so a rotation made on one replica is accepted by the others.
/// </summary>
internal sealed class SigningKeyRing(AuthState state, TimeProvider time, IOptions<AuthOptions> options, ILogger<SigningKeyRing> logger) : IDisposable
{
    private readonly AuthOptions _options = options.Value;
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    // Imported keys by kid, reused across reloads so a refresh costs no re-import and in-flight verifications keep a
    // live object. Keys that leave the ring are dropped from here but not disposed (a verification may hold one).
    private readonly ConcurrentDictionary<string, ECDsa> _imported = new(StringComparer.Ordinal);
    private volatile LoadedRing? _ring;
    private long _lastUnknownKidRefreshTicks = long.MinValue;

    private sealed record LoadedRing(string CurrentKid, IReadOnlyDictionary<string, SigningKey> Keys, DateTimeOffset LoadedAt);

    public async ValueTask<SigningKey> GetCurrentAsync(CancellationToken cancellationToken)
    {
        var ring = await GetRingAsync(cancellationToken);
        return ring.Keys[ring.CurrentKid];
    }

    /// <summary>The key for <paramref name="kid"/> if it is in the ring and still retained; null otherwise.</summary>
    public async ValueTask<SigningKey?> FindAsync(string kid, CancellationToken cancellationToken)
    {
        var ring = await GetRingAsync(cancellationToken);
        if (!ring.Keys.TryGetValue(kid, out var key) && ClaimUnknownKidRefresh())
        {
            ring = await LoadAsync(ring, cancellationToken);
            ring.Keys.TryGetValue(kid, out key);
        }
        return key is not null && IsRetained(key, time.GetUtcNow()) ? key : null;
    }

    /// <summary>Every key that still verifies, current first: what the JWKS document lists.</summary>
    public async ValueTask<IReadOnlyList<SigningKey>> GetVerificationKeysAsync(CancellationToken cancellationToken)
    {
        var ring = await GetRingAsync(cancellationToken);
        var now = time.GetUtcNow();
        return [.. ring.Keys.Values.Where(k => IsRetained(k, now)).OrderBy(k => k.Kid == ring.CurrentKid ? 0 : 1).ThenByDescending(k => k.CreatedAt)];
    }

    /// <summary>
    /// Makes a new current key and retires the previous one (it keeps verifying for
    /// <see cref="AuthOptions.RetiredKeyRetention"/>); keys past their retention leave the ring.
    /// </summary>
    public async Task<SigningKey> RotateAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (stored, etag) = await state.GetWithETagAsync<KeyRingRecord>(AuthState.KeyRingKey, cancellationToken);
            if (stored is null)
            {
                if (attempt >= 5)
                {
                    throw new InvalidOperationException("The signing key ring could neither be read nor created in the state store.");
                }
                // Nothing stored yet: create the ring (forcing a read past any cached copy), then rotate it.
                await LoadAsync(_ring, cancellationToken);
                continue;
            }
            var now = time.GetUtcNow();
            var fresh = NewKey(now);
            var kept = stored.Keys
                .Select(k => k.Kid == stored.CurrentKid && k.RetiredAt is null ? k with { RetiredAt = now } : k)
                .Where(k => k.RetiredAt is not { } retired || retired + _options.RetiredKeyRetention > now);
            var next = new KeyRingRecord(fresh.Kid, [fresh, .. kept]);
            if (await state.TryReplaceAsync(AuthState.KeyRingKey, next, etag, ttl: null, cancellationToken))
            {
                GatewayAuthLog.KeyRotated(logger, fresh.Kid, stored.CurrentKid);
                var ring = Build(next, now);
                _ring = ring;
                return ring.Keys[ring.CurrentKid];
            }
            if (attempt >= 5)
            {
                throw new InvalidOperationException("The signing key ring kept changing under the rotation; try again.");
            }
        }
    }

    public void Dispose()
    {
        _loadGate.Dispose();
        foreach (var key in _imported.Values)
        {
            key.Dispose();
        }
    }

    private bool IsRetained(SigningKey key, DateTimeOffset now) =>
        key.RetiredAt is not { } retired || retired + _options.RetiredKeyRetention > now;

    private bool ClaimUnknownKidRefresh()
    {
        var now = time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastUnknownKidRefreshTicks);
        return (last == long.MinValue || now - last >= _options.UnknownKidRefreshInterval.Ticks)
            && Interlocked.CompareExchange(ref _lastUnknownKidRefreshTicks, now, last) == last;
    }

    private async ValueTask<LoadedRing> GetRingAsync(CancellationToken cancellationToken)
    {
        var ring = _ring;
        if (ring is not null && time.GetUtcNow() - ring.LoadedAt < _options.KeyRingRefreshInterval)
        {
            return ring;
        }
        return await LoadAsync(ring, cancellationToken);
    }

    /// <summary>Reads (or creates) the ring; concurrent callers share one read.</summary>
    private async Task<LoadedRing> LoadAsync(LoadedRing? seen, CancellationToken cancellationToken)
    {
        await _loadGate.WaitAsync(cancellationToken);
        try
        {
            if (_ring is { } current && !ReferenceEquals(current, seen))
            {
                return current;
            }
            for (var attempt = 0; ; attempt++)
            {
                var now = time.GetUtcNow();
                var stored = await state.GetAsync<KeyRingRecord>(AuthState.KeyRingKey, cancellationToken);
                if (stored is null)
                {
                    var record = NewKey(now);
                    var created = new KeyRingRecord(record.Kid, [record]);
                    // First-write: of two replicas creating the ring at once, one wins and the other reads its key.
                    if (await state.TryCreateAsync(AuthState.KeyRingKey, created, ttl: null, cancellationToken))
                    {
                        GatewayAuthLog.KeyRingCreated(logger, record.Kid);
                        stored = created;
                    }
                    else if (attempt < 3)
                    {
                        continue;
                    }
                    else
                    {
                        throw new InvalidOperationException("The signing key ring could neither be read nor created in the state store.");
                    }
                }
                var ring = Build(stored, now);
                _ring = ring;
                return ring;
            }
        }
        finally
        {
            _loadGate.Release();
        }
    }

    private LoadedRing Build(KeyRingRecord record, DateTimeOffset now)
    {
        var keys = new Dictionary<string, SigningKey>(StringComparer.Ordinal);
        foreach (var k in record.Keys)
        {
            var ecdsa = _imported.GetOrAdd(k.Kid, static (kid, pkcs8) =>
            {
                var key = ECDsa.Create();
                key.ImportPkcs8PrivateKey(Convert.FromBase64String(pkcs8), out _);
                return key;
            }, k.Pkcs8);
            keys[k.Kid] = new SigningKey(k.Kid, ecdsa, k.CreatedAt, k.RetiredAt);
        }
        if (!keys.ContainsKey(record.CurrentKid))
        {
            throw new InvalidOperationException($"The stored key ring names current key {record.CurrentKid}, which it does not hold.");
        }
        foreach (var kid in _imported.Keys)
        {
            if (!keys.ContainsKey(kid))
            {
                _imported.TryRemove(kid, out _);
            }
        }
        return new LoadedRing(record.CurrentKid, keys, now);
    }

    private static SigningKeyRecord NewKey(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new SigningKeyRecord(AuthIds.NewKeyId(), Convert.ToBase64String(key.ExportPkcs8PrivateKey()), now, RetiredAt: null);
    }
}
