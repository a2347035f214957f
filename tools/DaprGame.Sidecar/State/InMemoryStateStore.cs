namespace DaprGame.Sidecar.State;

/// <summary>
/// <c>state.in-memory</c>: private to one sidecar and lost on restart, exactly as in Dapr. ETags are new UUIDs
/// on every write; with an ETag the item must exist and match; first-write without an ETag fails on an existing key.
/// </summary>
public sealed class InMemoryStateStore(TimeProvider time) : IStateStore
{
    private readonly Dictionary<string, StateItem> _items = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public IReadOnlyList<string> Features { get; } = ["ETAG", "TRANSACTIONAL", "TTL", "DELETE_WITH_PREFIX", "KEYS_LIKE"];

    public Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(Live(key));
        }
    }

    public Task SetAsync(StateSet request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Check(request.Key, request.ETag, request.Concurrency, isDelete: false);
            Apply(new StateOperation(request, null));
        }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(StateDelete request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Check(request.Key, request.ETag, request.Concurrency, isDelete: true);
            Apply(new StateOperation(null, request));
        }
        return Task.CompletedTask;
    }

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Check every operation against the state as it will be when that operation runs, then apply all.
            var snapshot = new Dictionary<string, StateItem>(_items, StringComparer.Ordinal);
            try
            {
                foreach (var op in operations)
                {
                    if (op.Set is { } set)
                    {
                        Check(set.Key, set.ETag, set.Concurrency, isDelete: false);
                    }
                    else if (op.Delete is { } delete)
                    {
                        Check(delete.Key, delete.ETag, delete.Concurrency, isDelete: true);
                    }
                    Apply(op);
                }
            }
            catch
            {
                _items.Clear();
                foreach (var kv in snapshot)
                {
                    _items[kv.Key] = kv.Value;
                }
                throw;
            }
        }
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private StateItem? Live(string key)
    {
        if (!_items.TryGetValue(key, out var item))
        {
            return null;
        }
        if (item.ExpiresAt is { } exp && exp <= time.GetUtcNow())
        {
            _items.Remove(key);
            return null;
        }
        return item;
    }

    private void Check(string key, string? etag, Concurrency concurrency, bool isDelete)
    {
        var current = Live(key);
        if (!string.IsNullOrEmpty(etag))
        {
            if (current is null || current.ETag != etag)
            {
                throw new ETagMismatchException("possible etag mismatch");
            }
        }
        else if (!isDelete && concurrency == Concurrency.FirstWrite && current is not null)
        {
            throw new ETagMismatchException("first-write: the key already exists");
        }
    }

    private void Apply(StateOperation op)
    {
        if (op.Set is { } set)
        {
            DateTimeOffset? expires = set.Ttl is { } ttl && ttl > TimeSpan.Zero ? time.GetUtcNow() + ttl : null;
            _items[set.Key] = new StateItem(set.Value, Guid.NewGuid().ToString(), set.IsBinary, expires);
        }
        else if (op.Delete is { } delete)
        {
            _items.Remove(delete.Key);
        }
    }
}
