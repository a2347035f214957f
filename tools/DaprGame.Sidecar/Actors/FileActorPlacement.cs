using System.Text.Json;
using DaprGame.Sidecar.Hosting;

namespace DaprGame.Sidecar.Actors;

/// <summary>
/// Placement for separately started sidecars: each host writes <c>&lt;instance&gt;.json</c> (its types and address)
/// into a shared folder, and every sidecar rebuilds the table from the folder at most once a second, skipping hosts
/// whose process is gone. There is no cross-process lock round: a host that sees it lost actors drains and
/// deactivates them, and the new owner serves them from its next refresh on, so during a join or a crash the
/// single-activation guarantee holds only to within that refresh (about a second). In-process placement
/// (<see cref="InProcessActorPlacement"/>) has the full guarantee.
/// </summary>
public sealed class FileActorPlacement : IActorPlacement
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);
    private readonly string _folder;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<ActorHostMember> _local = [];
    private PlacementTable _table = PlacementTable.Empty;
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;
    private ITimer? _poll;

    public FileActorPlacement(string folder, TimeProvider? time = null)
    {
        _folder = folder;
        _time = time ?? TimeProvider.System;
    }

    public string Folder => _folder;

    /// <summary>
    /// True when a <c>--placement-host-address</c> names a folder. daprd's own form, <c>host:port</c> of a Placement
    /// service (the Dapr CLI always passes <c>localhost:50005</c>), is not one: the registry's placement is used then.
    /// </summary>
    public static bool IsFolderAddress(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return false;
        }
        var colon = address.LastIndexOf(':');
        var hostPort = colon > 0 && colon < address.Length - 1 && address[(colon + 1)..].All(char.IsAsciiDigit)
            && !address.Contains('/', StringComparison.Ordinal) && !address.Contains('\\', StringComparison.Ordinal);
        return !hostPort && !address.Contains(',', StringComparison.Ordinal);
    }

    public PlacementTable Current
    {
        get
        {
            if (_time.GetUtcNow() - _readAt > RefreshEvery)
            {
                Reload();
            }
            return _table;
        }
    }

    public Task WhenStableAsync() => Task.CompletedTask;

    public Task RefreshAsync(CancellationToken cancellationToken)
    {
        Reload();
        return Task.CompletedTask;
    }

    public async Task<IAsyncDisposable> JoinAsync(ActorHostMember member, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_folder);
        var file = Path.Combine(_folder, $"{member.InstanceId}.json");
        await File.WriteAllTextAsync(file + ".tmp", JsonSerializer.Serialize(member), cancellationToken);
        File.Move(file + ".tmp", file, overwrite: true);
        lock (_gate)
        {
            _local.Add(member);
            _poll ??= _time.CreateTimer(static s => ((FileActorPlacement)s!).Reload(), this, RefreshEvery, RefreshEvery);
        }
        Reload();
        return new Membership(this, member, file);
    }

    private void Reload()
    {
        var found = new List<ActorHostMember>();
        if (Directory.Exists(_folder))
        {
            foreach (var file in Directory.EnumerateFiles(_folder, "*.json"))
            {
                try
                {
                    if (JsonSerializer.Deserialize<ActorHostMember>(File.ReadAllText(file)) is { } m && LoopbackHttp.IsProcessAlive(m.ProcessId))
                    {
                        found.Add(m);
                    }
                }
                catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
                {
                    // Being written or removed right now: the next read sees it settled.
                }
            }
        }
        List<ActorHostMember> local;
        PlacementTable table;
        lock (_gate)
        {
            local = [.. _local];
            // Hosts in this process answer directly.
            for (var i = 0; i < found.Count; i++)
            {
                var mine = local.Find(l => l.InstanceId == found[i].InstanceId);
                if (mine is not null)
                {
                    found[i] = mine;
                }
            }
            found.Sort((a, b) => string.CompareOrdinal(a.InstanceId, b.InstanceId));
            var changed = found.Count != _table.Members.Length || !found.Select(f => f.InstanceId).SequenceEqual(_table.Members.Select(m => m.InstanceId));
            _readAt = _time.GetUtcNow();
            if (!changed)
            {
                return;
            }
            table = new PlacementTable(_table.Version + 1, found);
            _table = table;
        }
        foreach (var m in local)
        {
            _ = m.InProcess?.ApplyTableAsync(table, CancellationToken.None);
        }
    }


    private sealed class Membership(FileActorPlacement owner, ActorHostMember member, string file) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Readers skip hosts whose process is gone.
            }
            lock (owner._gate)
            {
                owner._local.Remove(member);
                if (owner._local.Count == 0)
                {
                    // Nothing here hosts actors any more: callers still refresh on use, no need to poll.
                    owner._poll?.Dispose();
                    owner._poll = null;
                }
            }
            owner.Reload();
            return ValueTask.CompletedTask;
        }
    }
}
