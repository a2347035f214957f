using DaprGame.Contracts.Chat;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// Push fan-out on this replica: one <see cref="ChannelFeed"/> per channel that has local watchers, created on the
/// first watch and retired when the last watcher goes. Events from the broker for channels nobody here watches are
/// dropped, except a member-joined event for a player with sockets here (a new direct channel must reach them).
/// </summary>
public sealed class PushHub
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ChannelFeed> _feeds = new(StringComparer.Ordinal);
    private readonly ConnectionRegistry _connections;
    private readonly FeedServices _services;

    public PushHub(
        IChatClient chat,
        ConnectionRegistry connections,
        PresenceReporter presence,
        ResumeStore resume,
        GatewayMetrics metrics,
        GatewayRealtimeLog log,
        TimeProvider time,
        IOptions<RealtimeOptions> options)
    {
        _connections = connections;
        _services = new FeedServices(chat, connections, presence, resume, metrics, log, time, options.Value);
    }

    /// <summary>Channels with a live feed on this replica.</summary>
    public int FeedCount
    {
        get
        {
            lock (_lock)
            {
                return _feeds.Count;
            }
        }
    }

    /// <summary>An event from the broker (any order, possibly again).</summary>
    public void Publish(ChannelEvent evt)
    {
        lock (_lock)
        {
            if (!_feeds.TryGetValue(evt.ChannelId, out var feed))
            {
                if (evt is not ChatMemberJoined joined || _connections.ConnectionsOf(joined.PlayerId).Length == 0)
                {
                    return;
                }
                feed = Create(evt.ChannelId, evt.Epoch, evt.Offset - 1);
            }
            feed.Post(new FeedOp.Event(evt));
        }
    }

    /// <summary>
    /// Starts watching <paramref name="channelId"/> for a socket from <paramref name="offset"/> (it has everything up to
    /// there). Before the socket's first request the watcher holds its events (see <see cref="StartAsync"/>).
    /// </summary>
    public void Watch(PlayerConnection connection, string channelId, long epoch, long offset)
    {
        lock (_lock)
        {
            var created = false;
            if (!_feeds.TryGetValue(channelId, out var feed))
            {
                feed = Create(channelId, epoch, offset);
                created = true;
            }
            // Recorded on the socket now, not when the feed gets to it: a resume that starts the socket meanwhile must
            // see this channel, or its position would be ignored. Started already → the feed releases it at once.
            var started = connection.AddWatching(channelId);
            feed.Post(new FeedOp.Watch(connection, epoch, offset, started));
            if (created)
            {
                // After the watch, so the feed has a member to read history as; the watcher holds what it finds.
                feed.Post(FeedOp.Sync.Instance);
            }
        }
    }

    public void Unwatch(PlayerConnection connection, string channelId)
    {
        lock (_lock)
        {
            if (_feeds.TryGetValue(channelId, out var feed))
            {
                feed.Post(new FeedOp.Unwatch(connection));
            }
        }
    }

    public void UnwatchAll(PlayerConnection connection)
    {
        foreach (var channelId in connection.Watching())
        {
            Unwatch(connection, channelId);
        }
    }

    /// <summary>
    /// Marks the socket started and releases every watcher it holds: channels with a resume position are caught up from
    /// chat history after that position first (in offset order, no gap, no duplicate), the others continue from the
    /// offset they were watched from. Completes when every channel is live; returns channel id → <c>live</c>,
    /// <c>resumed</c> or <c>truncated</c>.
    /// </summary>
    public async Task<Dictionary<string, string>> StartAsync(PlayerConnection connection, IReadOnlyDictionary<string, ResumePosition?>? positions)
    {
        var channels = connection.Start();
        var pending = new List<(string ChannelId, Task<string> Status)>(channels.Length);
        lock (_lock)
        {
            foreach (var channelId in channels)
            {
                if (_feeds.TryGetValue(channelId, out var feed))
                {
                    var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                    var position = positions is not null && positions.TryGetValue(channelId, out var p) ? p : null;
                    feed.Post(new FeedOp.Release(connection, position, done));
                    pending.Add((channelId, done.Task));
                }
            }
        }
        var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (channelId, status) in pending)
        {
            statuses[channelId] = await status;
        }
        return statuses;
    }

    /// <summary>Re-asserts presence for every watched channel (chat expires it after 90 s).</summary>
    public void RefreshPresence()
    {
        lock (_lock)
        {
            foreach (var feed in _feeds.Values)
            {
                feed.Post(FeedOp.RefreshPresence.Instance);
            }
        }
    }

    /// <summary>Called by a feed that has no watcher left: it goes unless something was posted to it meanwhile.</summary>
    internal bool TryRetire(ChannelFeed feed)
    {
        lock (_lock)
        {
            if (feed.HasQueuedWork || !_feeds.TryGetValue(feed.ChannelId, out var current) || !ReferenceEquals(current, feed))
            {
                return false;
            }
            _feeds.Remove(feed.ChannelId);
            feed.Complete();
            return true;
        }
    }

    private ChannelFeed Create(string channelId, long epoch, long offset)
    {
        var feed = new ChannelFeed(channelId, epoch, offset, this, _services);
        _feeds[channelId] = feed;
        feed.Start();
        return feed;
    }
}

/// <summary>What every feed uses, bundled once.</summary>
internal sealed record FeedServices(
    IChatClient Chat,
    ConnectionRegistry Connections,
    PresenceReporter Presence,
    ResumeStore Resume,
    GatewayMetrics Metrics,
    GatewayRealtimeLog Log,
    TimeProvider Time,
    RealtimeOptions Options);

/// <summary>Work for a feed's loop.</summary>
internal abstract record FeedOp
{
    public sealed record Event(ChannelEvent Evt) : FeedOp;

    public sealed record Watch(PlayerConnection Connection, long Epoch, long Offset, bool Started) : FeedOp;

    public sealed record Unwatch(PlayerConnection Connection) : FeedOp;

    public sealed record Release(PlayerConnection Connection, ResumePosition? Position, TaskCompletionSource<string>? Done) : FeedOp;

    public sealed record CatchUpDone(ChannelFeed.Watcher Watcher, long LastSent, bool Left, string Status, TaskCompletionSource<string>? Done) : FeedOp;

    /// <summary>Delivers whatever chat holds after the feed's last offset (a new feed's start may be a moment old).</summary>
    public sealed record Sync : FeedOp
    {
        public static Sync Instance { get; } = new();
    }

    public sealed record RefreshPresence : FeedOp
    {
        public static RefreshPresence Instance { get; } = new();
    }
}
