using System.Collections.Immutable;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace DaprGame.Sidecar.Actors;

/// <summary>One sidecar hosting actor types: how peers reach it and which types its app registered.</summary>
public sealed record ActorHostMember(string AppId, string InstanceId, IReadOnlyList<string> Types, string Host, int HttpPort, string InternalKey, int ProcessId)
{
    /// <summary>Set when the host runs in this process: peers call it directly instead of over loopback HTTP.</summary>
    [JsonIgnore]
    public IActorHostPeer? InProcess { get; init; }
}

/// <summary>
/// What placement asks of a host in this process, in daprd's dissemination order: every host locks (new turns
/// wait), every host applies the new table (draining and deactivating the actors that moved away), every host
/// unlocks. So an actor that moves is deactivated on its old host before its new host serves it.
/// </summary>
public interface IActorHostPeer
{
    void LockTurns();

    Task ApplyTableAsync(PlacementTable table, CancellationToken cancellationToken);

    void UnlockTurns();

    /// <summary>Serves a call as the owner (<see cref="ActorResult.NotOwner"/> when this host no longer owns the actor).</summary>
    Task<ActorResult> InvokeAsync(ActorRequest request, CancellationToken cancellationToken);

    /// <summary>A reminder of an actor this host may own was registered or removed elsewhere.</summary>
    void RemindersChanged(string actorType, string actorId);
}

/// <summary>
/// The placement table: for each actor type, the hosts that registered it. An actor id belongs to exactly one of
/// them, chosen by rendezvous hashing (each host scores <c>hash(host, id)</c>; the highest wins), which is
/// consistent hashing: a host joining or leaving moves only the ids it gains or loses. Immutable; swapped whole.
/// </summary>
public sealed class PlacementTable
{
    private readonly ImmutableDictionary<string, Scored[]> _byType;

    public PlacementTable(long version, IEnumerable<ActorHostMember> members)
    {
        Version = version;
        Members = [.. members];
        var builder = ImmutableDictionary.CreateBuilder<string, List<Scored>>(StringComparer.Ordinal);
        foreach (var m in Members)
        {
            var seed = XxHash64.HashToUInt64(MemoryMarshal.AsBytes(m.InstanceId.AsSpan()));
            foreach (var t in m.Types)
            {
                if (!builder.TryGetValue(t, out var list))
                {
                    builder[t] = list = [];
                }
                list.Add(new Scored(m, seed));
            }
        }
        _byType = builder.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
    }

    public static PlacementTable Empty { get; } = new(0, []);

    public long Version { get; }

    public ImmutableArray<ActorHostMember> Members { get; }

    public bool Hosts(string actorType) => _byType.ContainsKey(actorType);

    /// <summary>The host owning <paramref name="actorId"/>, or null when no host registered the type. Allocation-free.</summary>
    public ActorHostMember? Owner(string actorType, string actorId)
    {
        if (!_byType.TryGetValue(actorType, out var hosts))
        {
            return null;
        }
        if (hosts.Length == 1)
        {
            return hosts[0].Member;
        }
        var id = XxHash64.HashToUInt64(MemoryMarshal.AsBytes(actorId.AsSpan()));
        ActorHostMember? best = null;
        var bestScore = 0UL;
        foreach (var h in hosts)
        {
            var score = Mix(h.Seed ^ id);
            if (best is null || score > bestScore)
            {
                best = h.Member;
                bestScore = score;
            }
        }
        return best;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private readonly record struct Scored(ActorHostMember Member, ulong Seed);
}

/// <summary>
/// The shared placement service of a set of sidecars (daprd's Placement). Sidecars that host actor types join it;
/// every sidecar routes actor calls by its <see cref="Current"/> table.
/// </summary>
public interface IActorPlacement
{
    PlacementTable Current { get; }

    /// <summary>Completes when no table change is being disseminated; a caller waits here before routing.</summary>
    Task WhenStableAsync();

    /// <summary>Adds a host; disposing the result removes it (after which its actors move to the remaining hosts).</summary>
    Task<IAsyncDisposable> JoinAsync(ActorHostMember member, CancellationToken cancellationToken);

    /// <summary>Looks again for hosts that changed without telling (a crashed process); a no-op in process.</summary>
    Task RefreshAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Placement for sidecars of one process (tests, the multi-app launcher): membership changes are serialized and
/// disseminated with daprd's lock / update / unlock rounds, so single activation holds across joins and leaves.
/// </summary>
public sealed class InProcessActorPlacement : IActorPlacement, IDisposable
{
    private readonly SemaphoreSlim _changes = new(1, 1);
    private ImmutableList<ActorHostMember> _members = [];
    private volatile PlacementTable _table = PlacementTable.Empty;
    private volatile TaskCompletionSource? _changing;

    public PlacementTable Current => _table;

    public void Dispose() => _changes.Dispose();

    public Task WhenStableAsync() => _changing?.Task ?? Task.CompletedTask;

    public Task RefreshAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IAsyncDisposable> JoinAsync(ActorHostMember member, CancellationToken cancellationToken)
    {
        await ChangeAsync(m => m.Add(member), cancellationToken);
        return new Membership(this, member);
    }

    private async Task ChangeAsync(Func<ImmutableList<ActorHostMember>, ImmutableList<ActorHostMember>> change, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        var changing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _changing = changing;
        List<IActorHostPeer> locked = [];
        try
        {
            _members = change(_members);
            var table = new PlacementTable(_table.Version + 1, _members);
            foreach (var m in _members)
            {
                if (m.InProcess is { } peer)
                {
                    peer.LockTurns();
                    locked.Add(peer);
                }
            }
            _table = table;
            await Task.WhenAll(locked.Select(p => p.ApplyTableAsync(table, CancellationToken.None)));
        }
        finally
        {
            foreach (var p in locked)
            {
                p.UnlockTurns();
            }
            _changing = null;
            changing.SetResult();
            _changes.Release();
        }
    }

    private sealed class Membership(InProcessActorPlacement owner, ActorHostMember member) : IAsyncDisposable
    {
        private int _done;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                await owner.ChangeAsync(m => m.Remove(member), CancellationToken.None);
            }
        }
    }
}
