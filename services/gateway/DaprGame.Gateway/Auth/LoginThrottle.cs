using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// Failed-login counters per username and per client address, in the state store so every replica counts together.
/// A fixed window starts at the first failure; at the limit, logins for that name (or from that address) are refused
/// with 429 until the window ends, whatever the password. Windows are judged with <see cref="TimeProvider"/>; the
/// record's <c>ttlInSeconds</c> only lets the store forget it afterwards.
/// </summary>
internal sealed class LoginThrottle(AuthState state, TimeProvider time, IOptions<AuthOptions> options)
{
    private readonly AuthOptions _options = options.Value;

    /// <summary>How long to wait, or null when a login may be attempted now.</summary>
    public async Task<TimeSpan?> RetryAfterAsync(string usernameLower, string? address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var user = await state.GetAsync<ThrottleRecord>(AuthState.UserThrottleKey(usernameLower), cancellationToken);
        var wait = Blocked(user, _options.LoginFailuresBeforeThrottle, now);
        if (address is not null)
        {
            var ip = await state.GetAsync<ThrottleRecord>(AuthState.IpThrottleKey(address), cancellationToken);
            if (Blocked(ip, _options.LoginFailuresPerIpBeforeThrottle, now) is { } ipWait && (wait is null || ipWait > wait))
            {
                wait = ipWait;
            }
        }
        return wait;
    }

    public async Task RecordFailureAsync(string usernameLower, string? address, CancellationToken cancellationToken)
    {
        await IncrementAsync(AuthState.UserThrottleKey(usernameLower), cancellationToken);
        if (address is not null)
        {
            await IncrementAsync(AuthState.IpThrottleKey(address), cancellationToken);
        }
    }

    /// <summary>A successful login clears the username's count (not the address's: one good account must not reset a spray).</summary>
    public Task ResetAsync(string usernameLower, CancellationToken cancellationToken) =>
        state.DeleteAsync(AuthState.UserThrottleKey(usernameLower), cancellationToken);

    private TimeSpan? Blocked(ThrottleRecord? record, int limit, DateTimeOffset now)
    {
        if (record is null || record.Failures < limit)
        {
            return null;
        }
        var end = record.WindowStart + _options.LoginFailureWindow;
        return end > now ? end - now : null;
    }

    private async Task IncrementAsync(string key, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var now = time.GetUtcNow();
            var (record, etag) = await state.GetWithETagAsync<ThrottleRecord>(key, cancellationToken);
            var next = record is null || record.WindowStart + _options.LoginFailureWindow <= now
                ? new ThrottleRecord(now, 1)
                : record with { Failures = record.Failures + 1 };
            var ttl = next.WindowStart + _options.LoginFailureWindow - now;
            var saved = record is null
                ? await state.TryCreateAsync(key, next, ttl, cancellationToken)
                : await state.TryReplaceAsync(key, next, etag, ttl, cancellationToken);
            if (saved)
            {
                return;
            }
        }
        // Losing eight races in a row means many failures are being counted at once: enough are recorded to throttle.
    }
}
