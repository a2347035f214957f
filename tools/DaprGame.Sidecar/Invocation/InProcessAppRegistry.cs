using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace DaprGame.Sidecar.Invocation;

/// <summary>
/// A registry shared by sidecars in one process (tests, the multi-app launcher). <see cref="Shared"/> is the
/// process-wide default, so sidecars started without an explicit registry still find each other.
/// </summary>
public sealed class InProcessAppRegistry : IAppRegistry
{
    private readonly ConcurrentDictionary<string, Entry> _apps = new(StringComparer.Ordinal);

    /// <summary>The registry used when a host supplies none.</summary>
    public static InProcessAppRegistry Shared { get; } = new();

    public Actors.IActorPlacement ActorPlacement { get; } = new Actors.InProcessActorPlacement();

    public ValueTask<IAsyncDisposable> RegisterAsync(AppEndpoint endpoint, CancellationToken cancellationToken)
    {
        _apps.AddOrUpdate(endpoint.AppId, _ => new Entry([endpoint]), (_, e) => e.With(endpoint));
        return ValueTask.FromResult<IAsyncDisposable>(new Registration(this, endpoint));
    }

    public ValueTask<AppEndpoint?> ResolveAsync(string appId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_apps.TryGetValue(appId, out var entry) ? entry.Next() : null);

    private void Remove(AppEndpoint endpoint)
    {
        while (_apps.TryGetValue(endpoint.AppId, out var entry))
        {
            var next = entry.Without(endpoint);
            if (next.Instances.IsEmpty ? _apps.TryRemove(new(endpoint.AppId, entry)) : _apps.TryUpdate(endpoint.AppId, next, entry))
            {
                return;
            }
        }
    }

    /// <summary>An immutable instance list plus a shared round-robin cursor; swapped atomically on change.</summary>
    private sealed class Entry(ImmutableArray<AppEndpoint> instances)
    {
        private int _cursor = -1;

        public ImmutableArray<AppEndpoint> Instances { get; } = instances;

        public Entry With(AppEndpoint e) => new(Instances.Add(e));

        public Entry Without(AppEndpoint e) => new(Instances.Remove(e));

        public AppEndpoint? Next()
        {
            var list = Instances;
            if (list.IsEmpty)
            {
                return null;
            }
            var i = (uint)Interlocked.Increment(ref _cursor);
            return list[(int)(i % (uint)list.Length)];
        }
    }

    private sealed class Registration(InProcessAppRegistry owner, AppEndpoint endpoint) : IAsyncDisposable
    {
        private int _done;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                owner.Remove(endpoint);
            }
            return ValueTask.CompletedTask;
        }
    }
}
