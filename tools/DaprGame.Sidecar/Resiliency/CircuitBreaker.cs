namespace DaprGame.Sidecar.Resiliency;

/// <summary>The three states of a circuit breaker.</summary>
public enum CircuitState
{
    Closed,
    Open,
    HalfOpen,
}

/// <summary>Thrown instead of running an operation while the breaker is open or its half-open quota is used up.</summary>
public sealed class CircuitBreakerOpenException(string message) : Exception(message);

/// <summary>
/// One live circuit breaker for one target, with the semantics of the sony/gobreaker library daprd uses: closed counts
/// consecutive failures and opens when the trip threshold is reached; open fails fast until <c>timeout</c> has passed
/// on the sidecar's clock, then half-open admits <c>maxRequests</c> calls; that many successes close it, any failure
/// opens it again. In closed state a non-zero <c>interval</c> clears the counts periodically. Results of calls started
/// in an earlier generation (before a state change) are ignored, as gobreaker does.
/// </summary>
public sealed class CircuitBreaker
{
    private readonly Lock _gate = new();
    private readonly CircuitBreakerPolicy _policy;
    private readonly TimeProvider _time;
    private readonly Action<CircuitState, CircuitState>? _onChange;
    private CircuitState _state = CircuitState.Closed;
    private long _generation;
    private int _requests;
    private int _consecutiveFailures;
    private int _consecutiveSuccesses;
    private DateTimeOffset _expiry;

    public CircuitBreaker(CircuitBreakerPolicy policy, TimeProvider time, Action<CircuitState, CircuitState>? onChange = null)
    {
        _policy = policy;
        _time = time;
        _onChange = onChange;
        NewGeneration(time.GetUtcNow());
    }

    public CircuitBreakerPolicy Policy => _policy;

    /// <summary>The state as of now (an open breaker whose timeout has passed reports half-open).</summary>
    public CircuitState State
    {
        get
        {
            lock (_gate)
            {
                return Current(_time.GetUtcNow());
            }
        }
    }

    /// <summary>Admits one call or throws <see cref="CircuitBreakerOpenException"/>; the token goes back in <see cref="Complete"/>.</summary>
    public long Enter()
    {
        lock (_gate)
        {
            var state = Current(_time.GetUtcNow());
            if (state == CircuitState.Open)
            {
                throw new CircuitBreakerOpenException("circuit breaker is open");
            }
            if (state == CircuitState.HalfOpen && _requests >= _policy.MaxRequests)
            {
                throw new CircuitBreakerOpenException("too many requests");
            }
            _requests++;
            return _generation;
        }
    }

    /// <summary>Records the outcome of a call admitted by <see cref="Enter"/>.</summary>
    public void Complete(long generation, bool success)
    {
        CircuitState from, to;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            from = Current(now);
            if (generation != _generation)
            {
                return;
            }
            if (success)
            {
                _consecutiveFailures = 0;
                _consecutiveSuccesses++;
                if (from == CircuitState.HalfOpen && _consecutiveSuccesses >= _policy.MaxRequests)
                {
                    SetState(CircuitState.Closed, now);
                }
            }
            else
            {
                _consecutiveSuccesses = 0;
                _consecutiveFailures++;
                if (from == CircuitState.HalfOpen || (from == CircuitState.Closed && _consecutiveFailures >= _policy.ConsecutiveFailures))
                {
                    SetState(CircuitState.Open, now);
                }
            }
            to = _state;
        }
        if (from != to)
        {
            _onChange?.Invoke(from, to);
        }
    }

    private CircuitState Current(DateTimeOffset now)
    {
        if (_state == CircuitState.Closed && _policy.Interval > TimeSpan.Zero && now >= _expiry)
        {
            NewGeneration(now);
        }
        else if (_state == CircuitState.Open && now >= _expiry)
        {
            var from = _state;
            SetState(CircuitState.HalfOpen, now);
            _onChange?.Invoke(from, CircuitState.HalfOpen);
        }
        return _state;
    }

    private void SetState(CircuitState state, DateTimeOffset now)
    {
        _state = state;
        NewGeneration(now);
    }

    private void NewGeneration(DateTimeOffset now)
    {
        _generation++;
        _requests = 0;
        _consecutiveFailures = 0;
        _consecutiveSuccesses = 0;
        _expiry = _state switch
        {
            CircuitState.Closed => _policy.Interval > TimeSpan.Zero ? now + _policy.Interval : DateTimeOffset.MaxValue,
            CircuitState.Open => now + _policy.Timeout,
            _ => DateTimeOffset.MaxValue,
        };
    }
}
