namespace DaprGame.Sidecar.Resiliency;

/// <summary>A retry policy from a <c>kind: Resiliency</c> resource. Defaults follow Dapr's documentation.</summary>
public sealed record RetryPolicy(string Name, bool Exponential, TimeSpan Duration, TimeSpan MaxInterval, int MaxRetries)
{
    /// <summary>No retries at all: the default for pub/sub delivery when no policy applies.</summary>
    public static RetryPolicy None { get; } = new("none", false, TimeSpan.Zero, TimeSpan.Zero, 0);

    /// <summary>The delay before retry number <paramref name="attempt"/> (1-based), without jitter.</summary>
    public TimeSpan DelayFor(int attempt)
    {
        if (!Exponential)
        {
            return Duration;
        }
        // Dapr's exponential backoff: initial interval × 1.5^(n-1), capped at maxInterval.
        var ticks = Duration.Ticks * Math.Pow(1.5, attempt - 1);
        return TimeSpan.FromTicks((long)Math.Min(ticks, MaxInterval.Ticks));
    }

    /// <summary>True while another attempt is allowed after <paramref name="retriesSoFar"/> retries. -1 means unlimited.</summary>
    public bool Allows(int retriesSoFar) => MaxRetries < 0 || retriesSoFar < MaxRetries;
}

/// <summary>A circuit breaker policy: trips after <see cref="ConsecutiveFailures"/> failures, stays open for <see cref="Timeout"/>.</summary>
public sealed record CircuitBreakerPolicy(string Name, int ConsecutiveFailures, TimeSpan Interval, TimeSpan Timeout, int MaxRequests);

/// <summary>The policies that apply to one target (an app, an actor type, a component direction).</summary>
public sealed record TargetPolicies(TimeSpan? Timeout, RetryPolicy? Retry, CircuitBreakerPolicy? CircuitBreaker);

/// <summary>All <c>kind: Resiliency</c> resources merged: named policies and the targets that use them.</summary>
public sealed class ResiliencySpec
{
    public Dictionary<string, TimeSpan> Timeouts { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, RetryPolicy> Retries { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, CircuitBreakerPolicy> CircuitBreakers { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, TargetPolicies> Apps { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, TargetPolicies> Actors { get; } = new(StringComparer.Ordinal);

    /// <summary>Component targets, keyed <c>name/inbound</c> and <c>name/outbound</c>.</summary>
    public Dictionary<string, TargetPolicies> Components { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The inbound policies for a pub/sub component: the named target first, then Dapr's default policy names
    /// (<c>DefaultPubsubComponentInboundRetryPolicy</c>, <c>DefaultComponentInboundRetryPolicy</c>, <c>DefaultRetryPolicy</c>).
    /// No policy means a single attempt.
    /// </summary>
    public TargetPolicies PubSubInbound(string component)
    {
        Components.TryGetValue($"{component}/inbound", out var target);
        return new TargetPolicies(
            target?.Timeout ?? FirstTimeout("DefaultPubsubComponentInboundTimeoutPolicy", "DefaultComponentInboundTimeoutPolicy", "DefaultTimeoutPolicy"),
            target?.Retry ?? FirstRetry("DefaultPubsubComponentInboundRetryPolicy", "DefaultComponentInboundRetryPolicy", "DefaultRetryPolicy"),
            target?.CircuitBreaker);
    }

    private TimeSpan? FirstTimeout(params string[] names)
    {
        foreach (var n in names)
        {
            if (Timeouts.TryGetValue(n, out var t))
            {
                return t;
            }
        }
        return null;
    }

    private RetryPolicy? FirstRetry(params string[] names)
    {
        foreach (var n in names)
        {
            if (Retries.TryGetValue(n, out var r))
            {
                return r;
            }
        }
        return null;
    }
}
