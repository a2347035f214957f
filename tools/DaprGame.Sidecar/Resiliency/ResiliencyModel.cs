namespace DaprGame.Sidecar.Resiliency;

/// <summary>
/// A retry policy from a <c>kind: Resiliency</c> resource. Defaults follow Dapr's documentation: constant 5 s,
/// exponential from 500 ms growing ×1.5 with a ±50 % random factor up to <c>maxInterval</c> (60 s), unlimited retries.
/// </summary>
public sealed record RetryPolicy(string Name, bool Exponential, TimeSpan Duration, TimeSpan MaxInterval, int MaxRetries)
{
    /// <summary>Dapr's (cenkalti/backoff's) exponential growth factor.</summary>
    public const double Multiplier = 1.5;

    /// <summary>Dapr's randomization: each exponential delay is drawn from [interval × 0.5, interval × 1.5].</summary>
    public const double RandomizationFactor = 0.5;

    /// <summary>daprd's <c>DaprBuiltInServiceRetries</c>: sidecar-to-sidecar, 3 × 1 s, only when the target sidecar is unreachable.</summary>
    public static RetryPolicy BuiltInServiceRetries { get; } = new("DaprBuiltInServiceRetries", false, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 3);

    /// <summary>daprd's <c>DaprBuiltInActorRetries</c>: 3 × 1 s for actor calls that could not reach the host.</summary>
    public static RetryPolicy BuiltInActorRetries { get; } = new("DaprBuiltInActorRetries", false, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 3);

    /// <summary>daprd's <c>DaprBuiltInActorNotFoundRetries</c>: 5 × 1 s while an actor type is not (yet) hosted.</summary>
    public static RetryPolicy BuiltInActorNotFoundRetries { get; } = new("DaprBuiltInActorNotFoundRetries", false, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 5);

    /// <summary>
    /// daprd's <c>DaprBuiltInActorReminderRetries</c>: exponential from 500 ms, ×1.5, up to 60 s. daprd also stops after
    /// 15 minutes in all; the caller bounds that, as this record has no elapsed-time limit.
    /// </summary>
    public static RetryPolicy BuiltInActorReminderRetries { get; } = new("DaprBuiltInActorReminderRetries", true, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60), -1);

    /// <summary>No retries at all: the default for pub/sub delivery when no policy applies.</summary>
    public static RetryPolicy None { get; } = new("none", false, TimeSpan.Zero, TimeSpan.Zero, 0);

    /// <summary>
    /// <c>matching.httpStatusCodes</c>: the HTTP statuses to retry. Null means Dapr's default (every 5xx);
    /// when set, statuses not listed are not retried.
    /// </summary>
    public StatusCodeSet? HttpStatusCodes { get; init; }

    /// <summary><c>matching.gRPCStatusCodes</c>; null retries every error.</summary>
    public StatusCodeSet? GrpcStatusCodes { get; init; }

    /// <summary>The delay before retry number <paramref name="attempt"/> (1-based), without jitter.</summary>
    public TimeSpan DelayFor(int attempt)
    {
        if (!Exponential)
        {
            return Duration;
        }
        // Dapr's exponential backoff: initial interval × 1.5^(n-1), capped at maxInterval.
        var ticks = Duration.Ticks * Math.Pow(Multiplier, attempt - 1);
        return TimeSpan.FromTicks((long)Math.Min(ticks, MaxInterval.Ticks));
    }

    /// <summary>
    /// The delay before retry <paramref name="attempt"/> with Dapr's jitter: <paramref name="random"/> in [0, 1) picks a
    /// value in [d × (1 − 0.5), d × (1 + 0.5)] around the capped interval d, as cenkalti/backoff does. Constant is exact.
    /// </summary>
    public TimeSpan DelayFor(int attempt, double random)
    {
        var d = DelayFor(attempt);
        if (!Exponential)
        {
            return d;
        }
        var delta = RandomizationFactor * d.Ticks;
        var min = d.Ticks - delta;
        return TimeSpan.FromTicks((long)(min + (random * ((2 * delta) + 1))));
    }

    /// <summary>True while another attempt is allowed after <paramref name="retriesSoFar"/> retries. -1 means unlimited.</summary>
    public bool Allows(int retriesSoFar) => MaxRetries < 0 || retriesSoFar < MaxRetries;

    /// <summary>Whether an HTTP answer with <paramref name="status"/> is retried: listed codes, or any 5xx without a list.</summary>
    public bool RetriesHttpStatus(int status) => HttpStatusCodes is { } set ? set.Contains(status) : status >= 500;
}

/// <summary>A parsed <c>"429,500-599"</c> list of status codes or ranges.</summary>
public sealed class StatusCodeSet
{
    private readonly (int From, int To)[] _ranges;

    private StatusCodeSet((int, int)[] ranges) => _ranges = ranges;

    public bool Contains(int code)
    {
        foreach (var (from, to) in _ranges)
        {
            if (code >= from && code <= to)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Parses a comma-separated list; every code must lie within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <exception cref="FormatException">An entry is not a code or an ascending range inside the bounds.</exception>
    public static StatusCodeSet Parse(string text, int min, int max)
    {
        var ranges = new List<(int, int)>();
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = raw.IndexOf('-', StringComparison.Ordinal);
            bool ok;
            int from, to;
            if (dash < 0)
            {
                ok = int.TryParse(raw, culture, out from);
                to = from;
            }
            else
            {
                ok = int.TryParse(raw.AsSpan(0, dash), culture, out from) & int.TryParse(raw.AsSpan(dash + 1), culture, out to);
            }
            if (!ok || from > to || from < min || to > max)
            {
                throw new FormatException($"status code '{raw}' is not a code or range within {min}-{max}");
            }
            ranges.Add((from, to));
        }
        return new StatusCodeSet([.. ranges]);
    }
}

/// <summary>
/// A circuit breaker policy: trips after <see cref="ConsecutiveFailures"/> consecutive failures, stays open for
/// <see cref="Timeout"/>, then lets <see cref="MaxRequests"/> through half-open; <see cref="Interval"/> clears the
/// counts periodically while closed (0 = never).
/// </summary>
public sealed record CircuitBreakerPolicy(string Name, int ConsecutiveFailures, TimeSpan Interval, TimeSpan Timeout, int MaxRequests);

/// <summary>The policies that apply to one target (an app, an actor type, a component direction).</summary>
public sealed record TargetPolicies(TimeSpan? Timeout, RetryPolicy? Retry, CircuitBreakerPolicy? CircuitBreaker)
{
    /// <summary>daprd's default <c>circuitBreakerCacheSize</c> for app targets.</summary>
    public const int DefaultBreakerCacheSize = 100;

    /// <summary>
    /// App targets: how many per-method circuit breakers are kept (<c>circuitBreakerCacheSize</c>); the least recently used
    /// one is dropped beyond it, as daprd's LRU does.
    /// </summary>
    public int BreakerCacheSize { get; init; } = DefaultBreakerCacheSize;

    /// <summary>True when nothing applies: callers then take their fast path.</summary>
    public bool IsEmpty => Timeout is null && Retry is null && CircuitBreaker is null;
}

/// <summary>The kinds of resiliency target Dapr distinguishes, with the infix of their default policy names.</summary>
public enum ResiliencyTargetKind
{
    App,
    Actor,
    ComponentOutbound,
    ComponentInbound,
}

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

    /// <summary>False when no resource defined any policy: every target then resolves to nothing without lookups.</summary>
    public bool IsEmpty => Timeouts.Count == 0 && Retries.Count == 0 && CircuitBreakers.Count == 0;

    /// <summary>
    /// The inbound policies for a pub/sub component: the named target first, then Dapr's default policy names
    /// (<c>DefaultPubsubComponentInboundRetryPolicy</c>, <c>DefaultComponentInboundRetryPolicy</c>, …, <c>DefaultRetryPolicy</c>).
    /// No policy means a single attempt.
    /// </summary>
    public TargetPolicies PubSubInbound(string component) => Resolve(ResiliencyTargetKind.ComponentInbound, component, "Pubsub");

    /// <summary>
    /// The policies for one target, each kind (timeout, retry, circuit breaker) resolved on its own as daprd does:
    /// the policy the named target gives, else the most specific default name, else the general one. For components,
    /// <paramref name="componentType"/> is Dapr's type infix (<c>Statestore</c>, <c>Pubsub</c>, …).
    /// </summary>
    public TargetPolicies Resolve(ResiliencyTargetKind kind, string name, string? componentType = null)
    {
        TargetPolicies? target = null;
        switch (kind)
        {
            case ResiliencyTargetKind.App:
                Apps.TryGetValue(name, out target);
                break;
            case ResiliencyTargetKind.Actor:
                Actors.TryGetValue(name, out target);
                break;
            case ResiliencyTargetKind.ComponentOutbound:
                Components.TryGetValue($"{name}/outbound", out target);
                break;
            case ResiliencyTargetKind.ComponentInbound:
                Components.TryGetValue($"{name}/inbound", out target);
                break;
        }
        var prefixes = DefaultPrefixes(kind, componentType);
        return new TargetPolicies(
            target?.Timeout ?? First(Timeouts, prefixes, "TimeoutPolicy"),
            target?.Retry ?? FirstRef(Retries, prefixes, "RetryPolicy"),
            target?.CircuitBreaker ?? FirstRef(CircuitBreakers, prefixes, "CircuitBreakerPolicy"))
        {
            BreakerCacheSize = target?.BreakerCacheSize ?? TargetPolicies.DefaultBreakerCacheSize,
        };
    }

    /// <summary>Default policy name prefixes from most to least specific (shared/dapr-contract.md §5.1).</summary>
    public static string[] DefaultPrefixes(ResiliencyTargetKind kind, string? componentType = null) => kind switch
    {
        ResiliencyTargetKind.App => ["DefaultApp", "Default"],
        ResiliencyTargetKind.Actor => ["DefaultActor", "Default"],
        ResiliencyTargetKind.ComponentOutbound => componentType is { Length: > 0 } t
            ? [$"Default{t}ComponentOutbound", "DefaultComponentOutbound", "DefaultComponent", "Default"]
            : ["DefaultComponentOutbound", "DefaultComponent", "Default"],
        _ => componentType is { Length: > 0 } t
            ? [$"Default{t}ComponentInbound", "DefaultComponentInbound", "DefaultComponent", "Default"]
            : ["DefaultComponentInbound", "DefaultComponent", "Default"],
    };

    private static TimeSpan? First(Dictionary<string, TimeSpan> policies, string[] prefixes, string suffix)
    {
        foreach (var p in prefixes)
        {
            if (policies.TryGetValue(p + suffix, out var t))
            {
                return t;
            }
        }
        return null;
    }

    private static T? FirstRef<T>(Dictionary<string, T> policies, string[] prefixes, string suffix)
        where T : class
    {
        foreach (var p in prefixes)
        {
            if (policies.TryGetValue(p + suffix, out var t))
            {
                return t;
            }
        }
        return null;
    }
}
