namespace DaprGame.Sidecar.Actors;

/// <summary>
/// One actor's turn lock: one turn at a time, FIFO among waiters (shared/dapr-contract.md §2.4). With reentrancy,
/// a call carrying the id of the chain that holds the lock enters at once and deepens the stack. This sits on the
/// actor call path: the uncontended enter is a synchronous state change under a short monitor (never held across an
/// await) and allocates nothing; only a waiter allocates its completion source.
/// </summary>
internal sealed class ActorTurnLock
{
    private readonly Lock _gate = new();
    private Queue<Waiter>? _waiters;
    private bool _held;
    private string? _chain;
    private int _depth;

    /// <summary>Turns running or waiting; an idle actor has none.</summary>
    public int Load
    {
        get
        {
            lock (_gate)
            {
                return (_held ? 1 : 0) + (_waiters?.Count ?? 0);
            }
        }
    }

    /// <summary>
    /// Enters a turn. Returns true when the call re-entered the chain already holding the lock (a nested call of the
    /// same turn), false for a new turn. <paramref name="chain"/> is null when the type is not reentrant.
    /// </summary>
    public ValueTask<bool> EnterAsync(string? chain, int maxDepth)
    {
        TaskCompletionSource<bool> waiter;
        lock (_gate)
        {
            if (!_held)
            {
                _held = true;
                _chain = chain;
                _depth = 1;
                return ValueTask.FromResult(false);
            }
            if (chain is not null && string.Equals(chain, _chain, StringComparison.Ordinal))
            {
                if (_depth >= maxDepth)
                {
                    throw new DaprApiException("ERR_ACTOR_MAX_STACK_DEPTH_EXCEEDED", "maximum stack depth exceeded", System.Net.HttpStatusCode.InternalServerError, Grpc.Core.StatusCode.Internal);
                }
                _depth++;
                return ValueTask.FromResult(true);
            }
            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            (_waiters ??= new Queue<Waiter>()).Enqueue(new Waiter(waiter, chain));
        }
        return new ValueTask<bool>(waiter.Task);
    }

    /// <summary>Enters only when nobody holds or waits for the lock (idle deactivation must not queue behind work).</summary>
    public bool TryEnterIfIdle()
    {
        lock (_gate)
        {
            if (_held || _waiters is { Count: > 0 })
            {
                return false;
            }
            _held = true;
            _chain = null;
            _depth = 1;
            return true;
        }
    }

    /// <summary>Leaves a turn (or one level of a re-entered turn) and hands the lock to the next waiter in order.</summary>
    public void Exit()
    {
        TaskCompletionSource<bool>? next;
        lock (_gate)
        {
            if (--_depth > 0)
            {
                return;
            }
            if (_waiters is null || !_waiters.TryDequeue(out var w))
            {
                _held = false;
                _chain = null;
                return;
            }
            _chain = w.Chain;
            _depth = 1;
            next = w.Completion;
        }
        next.SetResult(false);
    }

    private readonly record struct Waiter(TaskCompletionSource<bool> Completion, string? Chain);
}
