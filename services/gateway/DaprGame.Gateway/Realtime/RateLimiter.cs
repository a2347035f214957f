using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Realtime;

/// <summary>The verdict on one request: allowed, or refused with how long until a token is back, and whether the player is flooding.</summary>
public readonly record struct RateDecision(bool Allowed, long RetryAfterMs, bool Flooding);

/// <summary>
/// Token buckets per player per <see cref="RateClass"/>, shared by the player's sockets and HTTP calls on this replica.
/// Time comes from <see cref="TimeProvider"/> so tests control it. Over the limit is an error, not a disconnect; only a
/// player who keeps going far past it (<see cref="RateLimitOptions.FloodFactor"/>) is reported as flooding.
/// </summary>
public sealed class RateLimiter
{
    private readonly ConcurrentDictionary<(string Player, RateClass Class), Bucket> _buckets = new();
    private readonly TimeProvider _time;
    private readonly RateLimitOptions _options;

    public RateLimiter(TimeProvider time, IOptions<RealtimeOptions> options)
    {
        _time = time;
        _options = options.Value.RateLimits;
    }

    public RateDecision TryAcquire(string playerId, RateClass rateClass)
    {
        var limits = rateClass switch
        {
            RateClass.Send => _options.Send,
            RateClass.Join => _options.Join,
            _ => _options.Other,
        };
        var now = _time.GetTimestamp();
        var bucket = _buckets.GetOrAdd((playerId, rateClass), static (_, state) => new Bucket(state.Burst, state.Now), (limits.Burst, Now: now));
        return bucket.Take(now, _time.TimestampFrequency, limits, _options.FloodFactor, _options.FloodWindowSeconds);
    }

    /// <summary>Forgets buckets that are full again (idle players), so the table does not grow with every player ever seen.</summary>
    public void Sweep()
    {
        var now = _time.GetTimestamp();
        foreach (var (key, bucket) in _buckets)
        {
            if (bucket.IsIdle(now, _time.TimestampFrequency))
            {
                _buckets.TryRemove(new KeyValuePair<(string, RateClass), Bucket>(key, bucket));
            }
        }
    }

    private sealed class Bucket(double tokens, long now)
    {
        private readonly Lock _lock = new();
        private double _tokens = tokens;
        private long _last = now;
        private long _windowStart = now;
        private long _refusedInWindow;

        public RateDecision Take(long now, long frequency, BucketOptions limits, double floodFactor, double floodWindowSeconds)
        {
            lock (_lock)
            {
                var elapsed = (double)(now - _last) / frequency;
                _last = now;
                _tokens = Math.Min(limits.Burst, _tokens + (elapsed * limits.PerSecond));
                if (_tokens >= 1)
                {
                    _tokens -= 1;
                    return new RateDecision(true, 0, false);
                }

                if ((double)(now - _windowStart) / frequency > floodWindowSeconds)
                {
                    _windowStart = now;
                    _refusedInWindow = 0;
                }
                _refusedInWindow++;
                var flooding = _refusedInWindow > floodFactor * limits.PerSecond * floodWindowSeconds;
                var retryAfterMs = limits.PerSecond <= 0 ? 1000 : (long)Math.Ceiling((1 - _tokens) / limits.PerSecond * 1000);
                return new RateDecision(false, Math.Max(1, retryAfterMs), flooding);
            }
        }

        public bool IsIdle(long now, long frequency)
        {
            lock (_lock)
            {
                return (double)(now - _last) / frequency > 600;
            }
        }
    }
}
