using System.Threading.Channels;
using DaprGame.Contracts.Chat;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// The one owner of a channel's push state on this replica, driven by one loop over a single-reader queue: the last
/// offset delivered from the broker and the epoch, and one <see cref="Watcher"/> per socket watching the channel.
/// Events leave in offset order: an offset at or below the last is a redelivery and is dropped; an offset that skips
/// ahead is preceded by the missing range read from chat history. Each watcher keeps its own last offset as well, so
/// no socket sees an event twice, not even across a resume.
/// </summary>
internal sealed class ChannelFeed
{
    private const int HistoryPageSize = 200;
    private const long ControlFrame = -1;

    private readonly Channel<FeedOp> _ops = Channel.CreateUnbounded<FeedOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PushHub _hub;
    private readonly FeedServices _s;
    private readonly List<Watcher> _watchers = [];
    private readonly Dictionary<string, int> _watchersPerPlayer = new(StringComparer.Ordinal);
    private long _epoch;
    private long _last;
    private int _catchUps;
    private int _queued;

    public ChannelFeed(string channelId, long epoch, long last, PushHub hub, FeedServices services)
    {
        ChannelId = channelId;
        _epoch = epoch;
        _last = last;
        _hub = hub;
        _s = services;
    }

    public string ChannelId { get; }

    // Counted by hand: the single-reader unbounded channel cannot count its items (Reader.Count throws).
    public bool HasQueuedWork => Volatile.Read(ref _queued) > 0;

    public void Post(FeedOp op)
    {
        Interlocked.Increment(ref _queued);
        if (!_ops.Writer.TryWrite(op))
        {
            Interlocked.Decrement(ref _queued);
        }
    }

    public void Complete() => _ops.Writer.TryComplete();

    public void Start() => _ = Task.Run(RunAsync);

    private async Task RunAsync()
    {
        var reader = _ops.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var op))
            {
                Interlocked.Decrement(ref _queued);
                try
                {
                    await HandleAsync(op);
                }
                catch (Exception ex)
                {
                    // One bad event must not stop the channel for everyone; the error is logged with the channel.
                    _s.Log.FeedFailed(ChannelId, ex);
                    (op as FeedOp.Release)?.Done?.TrySetResult("live");
                    (op as FeedOp.CatchUpDone)?.Done?.TrySetResult(((FeedOp.CatchUpDone)op).Status);
                }
            }
            if (_watchers.Count == 0 && _catchUps == 0 && _hub.TryRetire(this))
            {
                break;
            }
        }
        // Anything posted between the last read and retirement was refused by TryRetire, so nothing is lost here.
    }

    private Task HandleAsync(FeedOp op)
    {
        switch (op)
        {
            case FeedOp.Event e:
                return OnEventAsync(e.Evt);
            case FeedOp.Watch w:
                OnWatch(w.Connection, w.Epoch, w.Offset, w.Started);
                break;
            case FeedOp.Sync:
                // A feed created for a watch starts from the offset the socket was given, which may be a moment old:
                // what chat published since then reached this replica before anyone here watched, and was dropped.
                return FillGapAsync(long.MaxValue, probe: true);
            case FeedOp.Unwatch u:
                if (Find(u.Connection) is { } watcher)
                {
                    Remove(watcher);
                }
                break;
            case FeedOp.Release r:
                OnRelease(r.Connection, r.Position, r.Done);
                break;
            case FeedOp.CatchUpDone c:
                OnCatchUpDone(c);
                break;
            case FeedOp.RefreshPresence:
                foreach (var player in _watchersPerPlayer.Keys)
                {
                    _s.Presence.Report(ChannelId, player, online: true);
                }
                break;
        }
        return Task.CompletedTask;
    }

    private async Task OnEventAsync(ChannelEvent evt)
    {
        if (evt.Epoch < _epoch)
        {
            return;
        }
        if (evt.Epoch > _epoch)
        {
            // The channel's history was lost and restarted: offsets of the old epoch mean nothing now.
            _s.Log.EpochChanged(ChannelId, _epoch, evt.Epoch);
            _epoch = evt.Epoch;
            _last = evt.Offset - 1;
            Broadcast(Frames.Truncated(ChannelId, _epoch, evt.Offset));
            foreach (var w in _watchers)
            {
                w.LastOffset = _last;
            }
        }
        if (evt.Offset <= _last)
        {
            if (evt is ChatMemberJoined late)
            {
                // A join the feed has already passed (the broker reordered it): its player still has to start watching.
                WatchJoined(late);
            }
            return;
        }
        if (evt.Offset > _last + 1)
        {
            await FillGapAsync(evt.Offset - 1);
            if (evt.Offset <= _last)
            {
                return;
            }
        }
        Deliver(evt, Frames.Push(evt));
        _s.Metrics.FanOutLatency(_s.Time.GetUtcNow() - evt.OccurredAt);
    }

    /// <summary>
    /// The hot path: the frame was serialized once and the same bytes go to every watcher. No allocation per recipient,
    /// no LINQ, no lock (the loop owns the list). A watcher still catching up keeps the frame for later instead.
    /// </summary>
    private void Deliver(ChannelEvent evt, byte[] frame)
    {
        var sent = 0;
        var watchers = _watchers;
        for (var i = 0; i < watchers.Count; i++)
        {
            var w = watchers[i];
            if (evt.Offset <= w.LastOffset)
            {
                continue;
            }
            w.LastOffset = evt.Offset;
            if (w.Held is { } held)
            {
                held.Add((evt.Offset, frame));
                if (held.Count > w.Connection.Capacity && w.Connection.Close(CloseCodes.SlowConsumer, "slow consumer"))
                {
                    _s.Metrics.OverflowClose();
                }
            }
            else if (w.Connection.TryEnqueue(frame))
            {
                sent++;
            }
        }
        _last = evt.Offset;
        if (sent > 0)
        {
            _s.Metrics.FramesPushed(sent);
        }

        switch (evt)
        {
            case ChatMemberLeft left:
                // Delivered first (the leaving player sees why), then that player's sockets stop watching.
                for (var i = _watchers.Count - 1; i >= 0; i--)
                {
                    if (_watchers[i].Connection.PlayerId == left.PlayerId)
                    {
                        Remove(_watchers[i]);
                    }
                }
                break;
            case ChatMemberJoined joined:
                WatchJoined(joined);
                break;
        }
    }

    /// <summary>
    /// A new member with sockets here starts watching from its join. Events of the channel may have reached this
    /// replica before the join did (and been dropped, nobody watched), so the new watcher always catches up from chat
    /// history after the offset before its join; joins are rare, so the extra read is cheap.
    /// </summary>
    private void WatchJoined(ChatMemberJoined joined)
    {
        foreach (var connection in _s.Connections.ConnectionsOf(joined.PlayerId))
        {
            if (Find(connection) is not null || connection.IsClosing)
            {
                continue;
            }
            var started = connection.AddWatching(ChannelId);
            var w = Add(connection, joined.Epoch, joined.Offset - 1, held: true);
            w.ForceCatchUp = true;
            _s.Resume.MarkDirty(connection);
            if (started)
            {
                OnRelease(connection, null, null);
            }
        }
    }

    /// <summary>
    /// Reads the missing range (last, upTo] from chat and delivers it; if that fails, watchers are told to re-list.
    /// With <paramref name="probe"/> the end is not known (<see cref="FeedOp.Sync"/>): it reads up to chat's latest
    /// offset, and a failure only means the next event's gap fill will try again.
    /// </summary>
    private async Task FillGapAsync(long upTo, bool probe = false)
    {
        var reader = _watchers.Count > 0 ? _watchers[0].Connection.PlayerId : null;
        var reason = "no watcher to read history as";
        for (var page = 0; reader is not null && _last < upTo && page < _s.Options.MaxCatchUpPages; page++)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var result = await _s.Chat.HistoryAsync(reader, ChannelId, _last, HistoryPageSize, timeout.Token);
            if (result.Value is not { } history)
            {
                reason = result.Error?.Code ?? "empty answer";
                break;
            }
            if (history.Epoch != _epoch)
            {
                reason = "epoch changed";
                break;
            }
            if (probe)
            {
                upTo = history.LatestOffset;
            }
            if (history.Truncated && history.FirstAvailableOffset > _last + 1)
            {
                Broadcast(Frames.Truncated(ChannelId, _epoch, history.FirstAvailableOffset));
                _last = history.FirstAvailableOffset - 1;
            }
            var progressed = false;
            foreach (var e in history.Events)
            {
                if (e.Offset > _last && e.Epoch == _epoch)
                {
                    Deliver(e, Frames.Push(e));
                    progressed = true;
                }
            }
            if (!progressed)
            {
                reason = "history does not reach the event yet";
                break;
            }
        }
        if (_last < upTo && !probe)
        {
            _s.Log.GapNotFilled(ChannelId, _last, upTo, reason);
            Broadcast(Frames.Truncated(ChannelId, _epoch, _last + 1));
            _last = upTo;
        }
    }

    private void OnWatch(PlayerConnection connection, long epoch, long offset, bool started)
    {
        if (Find(connection) is not null)
        {
            return;
        }
        // Again, in case an unwatch queued before this watch removed the mark.
        connection.AddWatching(ChannelId);
        if (connection.IsClosing)
        {
            // The socket closed while this watch was queued; its cleanup may already have run.
            connection.RemoveWatching(ChannelId);
            return;
        }
        Add(connection, epoch, offset, held: true);
        _s.Resume.MarkDirty(connection);
        if (started)
        {
            OnRelease(connection, null, null);
        }
    }

    private void OnRelease(PlayerConnection connection, ResumePosition? position, TaskCompletionSource<string>? done)
    {
        var w = Find(connection);
        if (w?.Held is null)
        {
            done?.TrySetResult("live");
            return;
        }
        if (w.CatchingUp)
        {
            // One catch-up per watcher at a time; this release completes with it.
            if (done is not null)
            {
                w.ReleaseWaiters.Add(done);
            }
            return;
        }
        var from = position?.Offset ?? w.StartOffset;
        var epoch = position?.Epoch ?? w.Epoch;
        var status = position is null ? "live" : "resumed";
        // Held frames cover every event this feed delivered after the watcher was added; anything at or below that
        // point that the client lacks must come from history first.
        var covered = Math.Max(w.StartOffset, w.AddedAtLast);
        if (from >= covered && epoch == _epoch && !w.ForceCatchUp)
        {
            FinishRelease(w, from);
            done?.TrySetResult(status);
            return;
        }
        _catchUps++;
        w.CatchingUp = true;
        _ = Task.Run(() => CatchUpAsync(w, from, epoch, status, done));
    }

    /// <summary>
    /// Sends one socket the events after <paramref name="from"/> from chat history, page by page, while the feed holds
    /// its live events; then hands back to the loop, which releases the held events it has not sent.
    /// </summary>
    private async Task CatchUpAsync(Watcher w, long from, long epoch, string status, TaskCompletionSource<string>? done)
    {
        var lastSent = from;
        var left = false;
        var connection = w.Connection;
        try
        {
            for (var page = 0; page < _s.Options.MaxCatchUpPages; page++)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var result = await _s.Chat.HistoryAsync(connection.PlayerId, ChannelId, lastSent, HistoryPageSize, timeout.Token);
                if (result.Value is not { } history)
                {
                    var code = result.Error?.Code ?? "empty answer";
                    if (code is ChatErrorCodes.NotMember or ChatErrorCodes.NotFound)
                    {
                        left = true;
                    }
                    else
                    {
                        _s.Log.CatchUpFailed(connection.ConnectionId, ChannelId, from, code);
                        connection.TryEnqueue(Frames.Truncated(ChannelId, epoch, lastSent + 1));
                        status = "truncated";
                    }
                    break;
                }
                if (history.Epoch != epoch || (history.Truncated && history.FirstAvailableOffset > lastSent + 1))
                {
                    // The client's position is gone (epoch changed or history trimmed): it must re-list; live resumes from now.
                    connection.TryEnqueue(Frames.Truncated(ChannelId, history.Epoch, history.FirstAvailableOffset));
                    lastSent = history.LatestOffset;
                    status = "truncated";
                    break;
                }
                foreach (var e in history.Events)
                {
                    if (e.Offset <= lastSent)
                    {
                        continue;
                    }
                    connection.TryEnqueue(Frames.Push(e));
                    lastSent = e.Offset;
                    if (e is ChatMemberLeft l && l.PlayerId == connection.PlayerId)
                    {
                        left = true;
                    }
                    else if (e is ChatMemberJoined j && j.PlayerId == connection.PlayerId)
                    {
                        left = false;
                    }
                }
                if (history.Events.Count == 0 || lastSent >= history.LatestOffset)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            _s.Log.CatchUpFailed(connection.ConnectionId, ChannelId, from, ex.GetType().Name);
            connection.TryEnqueue(Frames.Truncated(ChannelId, epoch, lastSent + 1));
            status = "truncated";
        }
        Post(new FeedOp.CatchUpDone(w, lastSent, left, status, done));
    }

    private void OnCatchUpDone(FeedOp.CatchUpDone c)
    {
        _catchUps--;
        var w = c.Watcher;
        w.CatchingUp = false;
        foreach (var waiter in w.ReleaseWaiters)
        {
            waiter.TrySetResult(c.Status);
        }
        w.ReleaseWaiters.Clear();
        if (!_watchers.Contains(w))
        {
            c.Done?.TrySetResult(c.Status);
            return;
        }
        if (c.Left)
        {
            Remove(w);
            c.Done?.TrySetResult(c.Status);
            return;
        }
        FinishRelease(w, c.LastSent);
        c.Done?.TrySetResult(c.Status);
    }

    /// <summary>Sends the held frames the client does not have yet (offset above <paramref name="sentUpTo"/>) and makes the watcher live.</summary>
    private static void FinishRelease(Watcher w, long sentUpTo)
    {
        var held = w.Held!;
        w.Held = null;
        foreach (var (offset, frame) in held)
        {
            if (offset == ControlFrame || offset > sentUpTo)
            {
                w.Connection.TryEnqueue(frame);
            }
        }
        w.LastOffset = Math.Max(w.LastOffset, sentUpTo);
    }

    private void Broadcast(byte[] frame)
    {
        foreach (var w in _watchers)
        {
            if (w.Held is { } held)
            {
                held.Add((ControlFrame, frame));
            }
            else
            {
                w.Connection.TryEnqueue(frame);
            }
        }
    }

    private Watcher? Find(PlayerConnection connection)
    {
        foreach (var w in _watchers)
        {
            if (ReferenceEquals(w.Connection, connection))
            {
                return w;
            }
        }
        return null;
    }

    private Watcher Add(PlayerConnection connection, long epoch, long offset, bool held)
    {
        var w = new Watcher(connection, epoch, offset, _last) { Held = held ? [] : null };
        _watchers.Add(w);
        var count = _watchersPerPlayer.GetValueOrDefault(connection.PlayerId);
        _watchersPerPlayer[connection.PlayerId] = count + 1;
        if (count == 0)
        {
            _s.Presence.Report(ChannelId, connection.PlayerId, online: true);
        }
        return w;
    }

    private void Remove(Watcher w)
    {
        _watchers.Remove(w);
        w.Connection.RemoveWatching(ChannelId);
        _s.Resume.MarkDirty(w.Connection);
        var count = _watchersPerPlayer.GetValueOrDefault(w.Connection.PlayerId) - 1;
        if (count <= 0)
        {
            _watchersPerPlayer.Remove(w.Connection.PlayerId);
            _s.Presence.Report(ChannelId, w.Connection.PlayerId, online: false);
        }
        else
        {
            _watchersPerPlayer[w.Connection.PlayerId] = count;
        }
    }

    /// <summary>One socket watching this channel. Touched only by the feed's loop.</summary>
    internal sealed class Watcher(PlayerConnection connection, long epoch, long startOffset, long addedAtLast)
    {
        public PlayerConnection Connection { get; } = connection;

        public long Epoch { get; } = epoch;

        /// <summary>The offset the socket had everything up to when it started watching.</summary>
        public long StartOffset { get; } = startOffset;

        /// <summary>The feed's last offset when the watcher was added: what came before it is not in <see cref="Held"/>.</summary>
        public long AddedAtLast { get; } = addedAtLast;

        /// <summary>The highest offset sent to (or held for) this socket.</summary>
        public long LastOffset { get; set; } = startOffset;

        /// <summary>True while a catch-up from history runs for this watcher.</summary>
        public bool CatchingUp { get; set; }

        /// <summary>Releases that arrived during the catch-up; they complete with it.</summary>
        public List<TaskCompletionSource<string>> ReleaseWaiters { get; } = [];

        /// <summary>Set for watchers started by a member-joined event: their release always reads history first.</summary>
        public bool ForceCatchUp { get; set; }

        /// <summary>Frames kept back while the socket has not started or is catching up from history; null when live.</summary>
        public List<(long Offset, byte[] Frame)>? Held { get; set; }
    }
}
