using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// The sockets open on this replica, by player. Enforces <see cref="RealtimeOptions.MaxConnectionsPerPlayer"/> with a
/// reservation taken before the upgrade, so two handshakes racing for the last slot cannot both win. The cap is per
/// replica: a player connected to several replicas may hold it on each.
/// </summary>
public sealed class ConnectionRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _players = new(StringComparer.Ordinal);
    private readonly int _cap;

    public ConnectionRegistry(IOptions<RealtimeOptions> options) => _cap = options.Value.MaxConnectionsPerPlayer;

    /// <summary>Takes a slot for <paramref name="playerId"/>; false when the player already holds the cap.</summary>
    public bool TryReserve(string playerId)
    {
        lock (_lock)
        {
            if (!_players.TryGetValue(playerId, out var entry))
            {
                entry = new Entry();
                _players[playerId] = entry;
            }
            if (entry.Reserved >= _cap)
            {
                return false;
            }
            entry.Reserved++;
            return true;
        }
    }

    /// <summary>Gives back a slot taken by <see cref="TryReserve"/> (after the socket ended or the upgrade failed).</summary>
    public void Release(string playerId, PlayerConnection? connection)
    {
        lock (_lock)
        {
            if (!_players.TryGetValue(playerId, out var entry))
            {
                return;
            }
            entry.Reserved--;
            if (connection is not null)
            {
                entry.Connections = Without(entry.Connections, connection);
            }
            if (entry.Reserved <= 0)
            {
                _players.Remove(playerId);
            }
        }
    }

    /// <summary>Publishes an accepted socket under its reserved slot.</summary>
    public void Add(PlayerConnection connection)
    {
        lock (_lock)
        {
            var entry = _players[connection.PlayerId];
            entry.Connections = [.. entry.Connections, connection];
        }
    }

    /// <summary>The player's open sockets on this replica: an immutable snapshot, safe to iterate without a lock.</summary>
    public PlayerConnection[] ConnectionsOf(string playerId)
    {
        lock (_lock)
        {
            return _players.TryGetValue(playerId, out var entry) ? entry.Connections : [];
        }
    }

    public PlayerConnection[] All()
    {
        lock (_lock)
        {
            var all = new List<PlayerConnection>();
            foreach (var entry in _players.Values)
            {
                all.AddRange(entry.Connections);
            }
            return [.. all];
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                var n = 0;
                foreach (var entry in _players.Values)
                {
                    n += entry.Connections.Length;
                }
                return n;
            }
        }
    }

    private static PlayerConnection[] Without(PlayerConnection[] connections, PlayerConnection connection)
    {
        var list = new List<PlayerConnection>(connections.Length);
        foreach (var c in connections)
        {
            if (!ReferenceEquals(c, connection))
            {
                list.Add(c);
            }
        }
        return [.. list];
    }

    private sealed class Entry
    {
        public int Reserved { get; set; }

        public PlayerConnection[] Connections { get; set; } = [];
    }
}
