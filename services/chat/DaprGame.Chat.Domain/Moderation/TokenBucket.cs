namespace DaprGame.Chat.Domain.Moderation;

/// <summary>
/// A token bucket refilled by elapsed time: <see cref="Burst"/> tokens at most, <see cref="RatePerSecond"/> added per
/// second. Time comes from the caller's <see cref="TimeProvider"/>, so tests drive it.
/// </summary>
public sealed class TokenBucket(double ratePerSecond, int burst, DateTimeOffset now)
{
    private double _tokens = burst;
    private DateTimeOffset _updated = now;

    public double RatePerSecond { get; } = ratePerSecond;

    public int Burst { get; } = burst;

    /// <summary>Takes one token if there is one.</summary>
    public bool TryTake(DateTimeOffset now)
    {
        Refill(now);
        if (_tokens < 1)
        {
            return false;
        }
        _tokens -= 1;
        return true;
    }

    /// <summary>True when the bucket is full again, so it can be forgotten.</summary>
    public bool IsFull(DateTimeOffset now)
    {
        Refill(now);
        return _tokens >= Burst;
    }

    private void Refill(DateTimeOffset now)
    {
        if (now > _updated)
        {
            _tokens = Math.Min(Burst, _tokens + (now - _updated).TotalSeconds * RatePerSecond);
            _updated = now;
        }
    }
}
