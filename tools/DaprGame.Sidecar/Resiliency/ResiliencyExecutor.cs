using System.Runtime.ExceptionServices;

namespace DaprGame.Sidecar.Resiliency;

/// <summary>How one attempt ended, as the caller of <see cref="ResiliencyExecutor.ExecuteAsync{T}"/> judges its result.</summary>
public enum AttemptVerdict
{
    /// <summary>Done; counts as a success for the circuit breaker.</summary>
    Success,

    /// <summary>A failure for the circuit breaker that is not worth retrying (e.g. a 5xx not in <c>matching.httpStatusCodes</c>).</summary>
    Failure,

    /// <summary>A failure the retry policy may retry.</summary>
    RetriableFailure,
}

/// <summary>
/// Runs operations for one resiliency target under its policies, in daprd's order: the retry loop outside, the
/// circuit breaker around each attempt, and the timeout on each attempt. An open breaker ends the retries at once.
/// Every delay and timeout runs on the sidecar's <see cref="TimeProvider"/>, so tests drive it with a fake clock.
/// </summary>
public sealed class ResiliencyExecutor
{
    private readonly TimeProvider _time;
    private readonly Func<double> _random;

    private readonly Action<string, CircuitState, CircuitState>? _onBreakerChange;
    private readonly object _endpointsLock = new();
    private readonly Dictionary<string, LinkedListNode<(string Endpoint, ResiliencyExecutor Executor)>> _endpoints = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Endpoint, ResiliencyExecutor Executor)> _endpointsByUse = new();

    internal ResiliencyExecutor(string target, TargetPolicies policies, TimeProvider time, Func<double> random, Action<string, CircuitState, CircuitState>? onBreakerChange)
    {
        _onBreakerChange = onBreakerChange;
        Target = target;
        Policies = policies;
        _time = time;
        _random = random;
        if (policies.CircuitBreaker is { } cb)
        {
            Breaker = new CircuitBreaker(cb, time, onBreakerChange is null ? null : (from, to) => onBreakerChange(target, from, to));
        }
    }

    /// <summary>The target's name, e.g. <c>app/orders</c>, for logs and errors.</summary>
    public string Target { get; }

    public TargetPolicies Policies { get; }

    /// <summary>The target's live breaker; null without a circuit breaker policy.</summary>
    public CircuitBreaker? Breaker { get; }

    /// <summary>
    /// The executor for one endpoint of this target: the same policies with the endpoint's own circuit breaker. daprd
    /// keys an app's breakers by <c>{appId}:{method}</c>, so a failing route opens its breaker without stopping the app's
    /// other routes; it keeps the <see cref="TargetPolicies.BreakerCacheSize"/> most recently used ones. Without a
    /// breaker policy there is nothing per endpoint, and this executor is returned.
    /// </summary>
    public ResiliencyExecutor ForEndpoint(string endpoint)
    {
        if (Policies.CircuitBreaker is null)
        {
            return this;
        }
        lock (_endpointsLock)
        {
            if (_endpoints.TryGetValue(endpoint, out var node))
            {
                _endpointsByUse.Remove(node);
                _endpointsByUse.AddFirst(node);
                return node.Value.Executor;
            }
            var created = new ResiliencyExecutor($"{Target}:{endpoint}", Policies, _time, _random, _onBreakerChange);
            _endpoints[endpoint] = _endpointsByUse.AddFirst((endpoint, created));
            if (_endpoints.Count > Policies.BreakerCacheSize)
            {
                _endpoints.Remove(_endpointsByUse.Last!.Value.Endpoint);
                _endpointsByUse.RemoveLast();
            }
            return created;
        }
    }

    /// <summary>True when a failed attempt may be repeated, so the caller must keep the request replayable.</summary>
    public bool HasRetries => Policies.Retry is { MaxRetries: not 0 };

    /// <summary>
    /// Runs <paramref name="operation"/> until it succeeds, fails without a retry, or the retries are spent. A result the
    /// classifier calls a failure is returned as the final answer when no retry follows (the caller passes it on, as
    /// daprd passes an app's last 5xx through); results of abandoned attempts go to <paramref name="discard"/>.
    /// Exceptions are retriable unless <paramref name="isRetriable"/> says otherwise; the last one is rethrown.
    /// A per-attempt timeout surfaces as <see cref="TimeoutException"/>, an open breaker as <see cref="CircuitBreakerOpenException"/>.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(
        Func<CancellationToken, Task<T>> operation,
        Func<T, AttemptVerdict> classify,
        Action<T>? discard = null,
        Func<Exception, bool>? isRetriable = null,
        bool allowRetries = true,
        CancellationToken cancellationToken = default)
    {
        var retry = allowRetries ? Policies.Retry ?? RetryPolicy.None : RetryPolicy.None;
        for (var retries = 0; ; retries++)
        {
            var generation = Breaker?.Enter() ?? 0;
            T result = default!;
            Exception? error = null;
            AttemptVerdict verdict;
            using (var timer = Policies.Timeout is { } timeout ? new CancellationTokenSource(timeout, _time) : null)
            using (var linked = timer is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token))
            {
                try
                {
                    result = await operation(linked?.Token ?? cancellationToken);
                    verdict = classify(result);
                }
                catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
                {
                    error = new TimeoutException($"timeout after {Policies.Timeout} (resiliency timeout policy for {Target})");
                    verdict = AttemptVerdict.RetriableFailure;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not CircuitBreakerOpenException)
                {
                    error = e;
                    verdict = isRetriable?.Invoke(e) ?? true ? AttemptVerdict.RetriableFailure : AttemptVerdict.Failure;
                }
            }
            Breaker?.Complete(generation, verdict == AttemptVerdict.Success);
            if (verdict == AttemptVerdict.RetriableFailure && retry.Allows(retries))
            {
                if (error is null)
                {
                    discard?.Invoke(result);
                }
                await Task.Delay(retry.DelayFor(retries + 1, _random()), _time, cancellationToken);
                continue;
            }
            if (error is not null)
            {
                ExceptionDispatchInfo.Throw(error);
            }
            return result;
        }
    }

    /// <summary>Runs an operation without a result; any exception is a failure.</summary>
    public Task ExecuteAsync(Func<CancellationToken, Task> operation, Func<Exception, bool>? isRetriable = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync(async ct =>
        {
            await operation(ct);
            return true;
        }, static _ => AttemptVerdict.Success, isRetriable: isRetriable, cancellationToken: cancellationToken);
}
