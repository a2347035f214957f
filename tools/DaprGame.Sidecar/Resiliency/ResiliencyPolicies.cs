using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Resiliency;

/// <summary>
/// The sidecar's live resiliency state: one <see cref="ResiliencyExecutor"/> (and so one circuit breaker) per target,
/// created on first use from the merged <c>kind: Resiliency</c> resources. Lookups return null when no policy applies,
/// so callers keep their fast path (no buffering, no allocation) for unprotected targets.
/// Other sidecar features (actors) call <see cref="ForActor"/> and run their calls through the executor:
/// <code>
/// var policies = runtime.Resiliency.ForActor(actorType);
/// var response = policies is null
///     ? await CallWithBuiltInRetriesAsync(runtime.Resiliency.BuiltIn(RetryPolicy.BuiltInActorRetries), …)
///     : await policies.ExecuteAsync(ct => CallHostAsync(…, ct), r => r.IsSuccessStatusCode ? AttemptVerdict.Success : AttemptVerdict.RetriableFailure,
///         discard: r => r.Dispose(), cancellationToken: ct);
/// </code>
/// </summary>
public sealed class ResiliencyPolicies
{
    private readonly ResiliencySpec _spec;
    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, ResiliencyExecutor?> _apps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ResiliencyExecutor?> _actors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ResiliencyExecutor?> _outbound = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ResiliencyExecutor?> _inbound = new(StringComparer.Ordinal);

    /// <param name="random">Jitter source in [0, 1); tests pass a fixed one.</param>
    public ResiliencyPolicies(ResiliencySpec spec, TimeProvider time, ILogger log, Func<double>? random = null)
    {
        _spec = spec;
        _time = time;
        _log = log;
        _random = random ?? Random.Shared.NextDouble;
    }

    /// <summary>
    /// One of daprd's built-in retry policies (<see cref="RetryPolicy.BuiltInServiceRetries"/>, …), or the policy a
    /// Resiliency resource defines under the same reserved name to override it, as daprd allows.
    /// </summary>
    public RetryPolicy BuiltIn(RetryPolicy builtIn) =>
        _spec.Retries.TryGetValue(builtIn.Name, out var overridden) ? overridden : builtIn;

    /// <summary>Service invocation to <paramref name="appId"/> (caller side).</summary>
    public ResiliencyExecutor? ForApp(string appId) => Get(_apps, ResiliencyTargetKind.App, appId, null);

    /// <summary>Actor calls to actors of <paramref name="actorType"/>; one breaker per type (<c>circuitBreakerScope: type</c>).</summary>
    public ResiliencyExecutor? ForActor(string actorType) => Get(_actors, ResiliencyTargetKind.Actor, actorType, null);

    /// <summary>Calls from the sidecar into a component (state operations, publish). <paramref name="componentType"/> is <c>Statestore</c>, <c>Pubsub</c>, ….</summary>
    public ResiliencyExecutor? ForComponentOutbound(string component, string componentType) =>
        Get(_outbound, ResiliencyTargetKind.ComponentOutbound, component, componentType);

    /// <summary>Calls from a component to the app (pub/sub deliveries).</summary>
    public ResiliencyExecutor? ForComponentInbound(string component, string componentType) =>
        Get(_inbound, ResiliencyTargetKind.ComponentInbound, component, componentType);

    private ResiliencyExecutor? Get(ConcurrentDictionary<string, ResiliencyExecutor?> cache, ResiliencyTargetKind kind, string name, string? componentType)
    {
        if (_spec.IsEmpty)
        {
            return null;
        }
        if (cache.TryGetValue(name, out var existing))
        {
            return existing;
        }
        var policies = _spec.Resolve(kind, name, componentType);
        var created = policies.IsEmpty ? null : new ResiliencyExecutor($"{kind}/{name}", policies, _time, _random, OnBreakerChange);
        return cache.GetOrAdd(name, created);
    }

    private void OnBreakerChange(string target, CircuitState from, CircuitState to) =>
        _log.LogInformation("circuit breaker for {Target}: {From} -> {To}", target, from, to);
}
