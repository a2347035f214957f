using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// This replica's view of which sessions are revoked. A session found live is trusted for
/// <see cref="AuthOptions.SessionCacheDuration"/>, then its record is read again; a revocation this replica learns of
/// (its own, an event from another replica, or a record read) marks the session at once and raises
/// <see cref="SessionRevocationHub"/> once.
/// </summary>
internal sealed class SessionRevocations(AuthState state, TimeProvider time, IOptions<AuthOptions> options, SessionRevocationHub hub, ILogger<SessionRevocations> logger)
{
    private const int PruneAbove = 4096;

    private readonly AuthOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _lastPruneTicks;

    private sealed record Entry(string PlayerId, bool Revoked, DateTimeOffset CheckedAt, bool Raised);

    public async ValueTask<bool> IsActiveAsync(string playerId, string sessionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(sessionId, out var entry))
        {
            if (entry.Revoked || entry.PlayerId != playerId)
            {
                return false;
            }
            if (now - entry.CheckedAt < _options.SessionCacheDuration)
            {
                return true;
            }
        }
        var record = await state.GetAsync<SessionRecord>(AuthState.SessionKey(sessionId), cancellationToken);
        if (record is null || record.PlayerId != playerId)
        {
            return false;
        }
        if (record.Revoked)
        {
            Learn(record.PlayerId, sessionId);
            return false;
        }
        // Never overwrite a revocation learned while the record was being read.
        _entries.AddOrUpdate(sessionId, new Entry(playerId, false, now, false), (_, old) => old.Revoked ? old : new Entry(playerId, false, now, false));
        Prune(now);
        return true;
    }

    /// <summary>Marks the session revoked here and raises the hub if this replica had not raised it yet.</summary>
    public void Learn(string playerId, string sessionId)
    {
        var now = time.GetUtcNow();
        var raise = false;
        _entries.AddOrUpdate(
            sessionId,
            _ =>
            {
                raise = true;
                return new Entry(playerId, true, now, true);
            },
            (_, old) =>
            {
                raise = !old.Raised;
                return new Entry(playerId, true, old.Revoked ? old.CheckedAt : now, true);
            });
        if (raise)
        {
            try
            {
                hub.Raise(playerId, sessionId);
            }
            catch (Exception e)
            {
                // A listener's failure must not undo or fail the revocation that is already recorded.
                GatewayAuthLog.RevocationListenerFailed(logger, e, sessionId);
            }
        }
        Prune(now);
    }

    /// <summary>
    /// Bounds memory: forgets live entries past the cache time and revocations older than any token of theirs can be
    /// (forgetting one only costs a record read).
    /// </summary>
    private void Prune(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref _lastPruneTicks);
        if (_entries.Count <= PruneAbove || now.UtcTicks - last < _options.SessionCacheDuration.Ticks
            || Interlocked.CompareExchange(ref _lastPruneTicks, now.UtcTicks, last) != last)
        {
            return;
        }
        var revokedHorizon = _options.AccessTokenLifetime + _options.EffectiveClockSkew;
        foreach (var (sessionId, entry) in _entries)
        {
            var age = now - entry.CheckedAt;
            if (entry.Revoked ? age > revokedHorizon : age >= _options.SessionCacheDuration)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(sessionId, entry));
            }
        }
    }
}
