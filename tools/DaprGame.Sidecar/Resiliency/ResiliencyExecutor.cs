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

    internal ResiliencyExecutor(string target, TargetPolicies policies, TimeProvider time, Func<double> random, Action<string, CircuitState, CircuitState>? onBreakerChange)
    {
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
