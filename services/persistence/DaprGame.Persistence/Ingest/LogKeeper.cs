using Stopwatch = System.Diagnostics.Stopwatch;
using System.Threading.Channels;
using Dapr;
using DaprGame.Contracts.Persistence;
using DaprGame.Persistence.Backups;
using DaprGame.Persistence.Domain.Backup;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using DaprGame.Persistence.Infrastructure;
using Microsoft.Extensions.Options;

namespace DaprGame.Persistence.Ingest;

/// <summary>
/// The one writer of the log on this replica, and its warm copy: the log's records, dedup index and stream heads
/// (<see cref="EventLog"/>) and every view (<see cref="ViewSet"/>), in memory. Deliveries queue here; the writer loop
/// takes everything queued (up to <see cref="PersistenceOptions.MaxBatchEvents"/>), plans one batch, writes it in one
/// state transaction fenced by the head's ETag, and only then applies it to memory and folds it into the views — so
/// an event is acknowledged to the sidecar only once it is durable. A failed write leaves memory untouched; the
/// writer re-reads the head (another writer may have appended) and the entries are answered RETRY.
/// <para>Start-up reads the whole log back, checks its chain, restores the latest views snapshot and replays the
/// tail. Until then every delivery is answered RETRY.</para>
/// </summary>
public sealed partial class LogKeeper(
    LogStore store, BackupKeyProvider keys, IOptions<PersistenceOptions> options, TimeProvider time, PersistenceMetrics metrics, ILogger<LogKeeper> logger)
    : BackgroundService
{
    private readonly PersistenceOptions _options = options.Value;
    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly LagWindow _lag = new();
    private readonly TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(long Position, TaskCompletionSource Waiter)> _waiters = [];
    private Dictionary<string, ParkedEvent> _parked = new(StringComparer.Ordinal);
    private EventLog _log = new();
    private ViewSet _views = new();
    private string _headETag = "";
    private volatile bool _ready;
    private string? _problem;
    private double _recoveredInMs;
    private int _recoveries;
    private long _snapshotWatermark;
    private Task _snapshotSaving = Task.CompletedTask;
    private long _appended, _duplicates, _conflicts, _dropped, _held;

    public bool Ready => _ready;

    /// <summary>Appends a delivered batch; one verdict per event, in order.</summary>
    public Task<EntryVerdict[]> AppendAsync(IReadOnlyList<IncomingEvent> events, CancellationToken cancellationToken)
    {
        if (!_ready)
        {
            return Task.FromResult(Enumerable.Repeat(EntryVerdict.Retry, events.Count).ToArray());
        }
        var work = new AppendWork(events);
        return _queue.Writer.TryWrite(work) ? work.Done.Task.WaitAsync(cancellationToken) : Task.FromResult(Enumerable.Repeat(EntryVerdict.Retry, events.Count).ToArray());
    }

    public void CountDropped(int count)
    {
        Interlocked.Add(ref _dropped, count);
        metrics.Dropped(count);
    }

    public Task<RollbackResult> RollbackAsync(RollbackMarker marker, CancellationToken cancellationToken) =>
        RunAsync(new RollbackWork(marker), cancellationToken);

    /// <summary>Writes an archive's records into an empty store and takes them as the log.</summary>
    public Task<RestoreResult> RestoreAsync(IReadOnlyList<LogRecord> records, ViewSnapshot? snapshot, CancellationToken cancellationToken) =>
        RunAsync(new RestoreWork(records, snapshot), cancellationToken);

    /// <summary>Reads the views under the writer's lock (views change only under it).</summary>
    public T Read<T>(Func<ViewSet, T> read)
    {
        lock (_gate)
        {
            return read(_views);
        }
    }

    /// <summary>The records 1..head and a snapshot of the views at the head, taken at one instant; writes continue.</summary>
    public (LogRecord[] Records, ViewSnapshot Views) Capture()
    {
        LogRecord[] records;
        ViewSet views;
        lock (_gate)
        {
            records = [.. _log.Records];
            views = _views.Copy();
        }
        // Hashing every view is the costly part (seconds at millions of events): done on the copy, outside the lock.
        return (records, views.Snapshot());
    }

    public LogRecord[] Records(long from, long to)
    {
        lock (_gate)
        {
            var first = (int)Math.Max(1, from);
            var last = (int)Math.Min(_log.Head.Position, to);
            return last < first ? [] : [.. _log.Records.Skip(first - 1).Take(last - first + 1)];
        }
    }

    public LogStatus Status()
    {
        var (count, p50, p99, max) = _lag.Read();
        LogHead head;
        ViewSet views;
        lock (_gate)
        {
            head = _log.Head;
            views = _views.Copy();
        }
        return new LogStatus(_ready, head.Position, Convert.ToHexStringLower(head.Hash), views.Watermark, views.ContentHash(),
            Interlocked.Read(ref _snapshotWatermark), Interlocked.Read(ref _appended), Interlocked.Read(ref _duplicates),
            Interlocked.Read(ref _conflicts), Interlocked.Read(ref _dropped), Interlocked.Read(ref _held), views.Skipped,
            _recoveredInMs, _recoveries, _problem, new IngestLag(count, p50, p99, max));
    }

    public void ResetLag() => _lag.Reset();

    /// <summary>Completes once the views reflect position <paramref name="position"/> (true), or after <paramref name="timeout"/> (false).</summary>
    /// <remarks>Waits for recovery to finish first; a log that recovered with a problem answers false at once.</remarks>
    public async Task<bool> WaitForWatermarkAsync(long position, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _recovered.Task.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return false;
        }
        if (!_ready)
        {
            return false;
        }
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (_views.Watermark >= position)
            {
                return true;
            }
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((position, waiter));
        }
        try
        {
            await waiter.Task.WaitAsync(timeout, time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void ReleaseWaiters()
    {
        // Under _gate.
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Position <= _views.Watermark)
            {
                _waiters[i].Waiter.TrySetResult();
                _waiters.RemoveAt(i);
            }
            else if (_waiters[i].Waiter.Task.IsCompleted)
            {
                _waiters.RemoveAt(i);
            }
        }
    }

    /// <summary>A full rebuild of every view from position 0, compared with the live views (same watermark).</summary>
    public RebuildResult Rebuild()
    {
        var (records, live) = Capture();
        var started = Stopwatch.GetTimestamp();
        var rebuilt = ViewSet.Rebuild(records);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var rebuiltHash = rebuilt.ContentHash();
        return new RebuildResult(records.Length, rebuiltHash, live.Hash, rebuiltHash == live.Hash, records.Length, elapsed);
    }

    /// <summary>Stores a views snapshot now, and checks that it plus a replay of the tail equals a full replay.</summary>
    public async Task<SnapshotResult> SnapshotNowAsync(CancellationToken cancellationToken)
    {
        var (records, snapshot) = Capture();
        var stored = await SaveSnapshotAsync(snapshot, cancellationToken);
        var read = await store.ReadSnapshotAsync(cancellationToken) ?? throw new InvalidOperationException("the snapshot just saved is not there");
        var restored = ViewSet.Restore(SnapshotCodec.Decode(read.Blob));
        restored.CatchUp(records);
        var full = ViewSet.Rebuild(records).ContentHash();
        return new SnapshotResult(snapshot.Watermark, snapshot.Hash, stored.Blob.Length, restored.ContentHash(), restored.ContentHash() == full);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RecoverAsync(stoppingToken);
        var batch = new List<AppendWork>();
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                if (!await WaitForWorkAsync(reader, stoppingToken))
                {
                    if (_parked.Count > 0)
                    {
                        // A parked event's grace ended with nothing else arriving: release it on its own.
                        await AppendBatchAsync([], stoppingToken);
                    }
                    continue;
                }
                var events = 0;
                while (events < _options.MaxBatchEvents && reader.TryPeek(out var next))
                {
                    if (next is not AppendWork append)
                    {
                        if (batch.Count == 0)
                        {
                            reader.TryRead(out _);
                            await RunOneAsync(next, stoppingToken);
                        }
                        break;
                    }
                    reader.TryRead(out _);
                    batch.Add(append);
                    events += append.Events.Count;
                }
                if (batch.Count > 0)
                {
                    try
                    {
                        await AppendBatchAsync(batch, stoppingToken);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // A bug must not stop the log: the batch is redelivered and the writer carries on.
                        LogBatchFailed(logger, e);
                        foreach (var work in batch)
                        {
                            work.Done.TrySetResult(Enumerable.Repeat(EntryVerdict.Retry, work.Events.Count).ToArray());
                        }
                        await ResyncAsync(stoppingToken);
                    }
                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _ready = false;
            foreach (var work in batch)
            {
                work.Done.TrySetResult(Enumerable.Repeat(EntryVerdict.Retry, work.Events.Count).ToArray());
            }
            while (reader.TryRead(out var left))
            {
                left.Cancel();
            }
        }
    }

    /// <summary>True when work is queued; false when a parked event's grace ended first. Throws when stopping.</summary>
    private async Task<bool> WaitForWorkAsync(ChannelReader<Work> reader, CancellationToken stoppingToken)
    {
        var wait = reader.WaitToReadAsync(stoppingToken).AsTask();
        if (NextRelease() is { } due)
        {
            var delay = due - time.GetUtcNow();
            if (delay <= TimeSpan.Zero)
            {
                return false;
            }
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var elapsed = Task.Delay(delay, time, timer.Token);
            var first = await Task.WhenAny(wait, elapsed);
            await timer.CancelAsync();
            if (first == elapsed)
            {
                return false;
            }
        }
        if (!await wait)
        {
            throw new OperationCanceledException("the queue is closed");
        }
        return true;
    }

    private async Task<T> RunAsync<T>(Work<T> work, CancellationToken cancellationToken)
    {
        if (!_ready)
        {
            throw new LogUnavailableException(_problem ?? "the log is still being recovered");
        }
        if (!_queue.Writer.TryWrite(work))
        {
            throw new LogUnavailableException("the log is shutting down");
        }
        return await work.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await store.WaitForSidecarAsync(cancellationToken);
        while (true)
        {
            try
            {
                var (head, etag) = await store.ReadHeadAsync(cancellationToken);
                // Records moved out by retention come back from their archives; the live store holds the rest.
                var point = await store.ReadArchivePointAsync(cancellationToken);
                List<LogRecord> records;
                try
                {
                    records = point is null ? [] : await RetentionService.ReadArchivedAsync(point, _options.BackupFolder, await keys.GetAsync(cancellationToken), cancellationToken);
                }
                catch (Exception e) when (e is InvalidDataException or BackupException or FormatException)
                {
                    _problem = e.Message;
                    LogChainBroken(logger, point!.Position, e.Message);
                    _recovered.TrySetResult();
                    return;
                }
                if (head.Position > records.Count)
                {
                    records.AddRange(await store.ReadRecordsAsync(records.Count + 1, head.Position, _options.ReadPage, cancellationToken));
                }
                EventLog log;
                try
                {
                    log = EventLog.Restore(records);
                }
                catch (ChainBrokenException e)
                {
                    _problem = e.Message;
                    LogChainBroken(logger, e.Report.FirstBadPosition, e.Report.Problem ?? "");
                    _recovered.TrySetResult();
                    return;
                }
                var views = await LoadViewsAsync(records, cancellationToken);
                var parked = await store.ReadParkedAsync(cancellationToken);
                lock (_gate)
                {
                    _log = log;
                    _views = views;
                    _headETag = etag;
                    _parked = parked.Where(p => log.FindEvent(p.Event.EventId) is null).ToDictionary(p => p.Event.EventId, StringComparer.Ordinal);
                }
                break;
            }
            catch (Exception e) when (e is DaprException or HttpRequestException or Grpc.Core.RpcException or InvalidDataException && !cancellationToken.IsCancellationRequested)
            {
                // The sidecar starts after the app (it waits for the app's port), and a store may be briefly away.
                LogRecoveryRetry(logger, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(250), TimeProvider.System, cancellationToken);
            }
        }
        _recoveredInMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        _recoveries++;
        _ready = true;
        _recovered.TrySetResult();
        metrics.Recovered(_recoveredInMs);
        LogRecovered(logger, _log.Head.Position, _views.Watermark, _recoveredInMs);
    }

    private async Task<ViewSet> LoadViewsAsync(List<LogRecord> records, CancellationToken cancellationToken)
    {
        var stored = await store.ReadSnapshotAsync(cancellationToken);
        if (stored is not null && stored.Watermark <= records.Count)
        {
            try
            {
                var views = ViewSet.Restore(SnapshotCodec.Decode(stored.Blob));
                views.CatchUp(records);
                Interlocked.Exchange(ref _snapshotWatermark, stored.Watermark);
                return views;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
            {
                LogSnapshotRefused(logger, stored.Watermark, e.Message);
            }
        }
        return ViewSet.Rebuild(records);
    }

    private async Task AppendBatchAsync(List<AppendWork> batch, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var verdicts = new EntryVerdict[batch.Count][];
        var accepted = new List<IncomingEvent>();
        var acceptedAt = new List<(int Work, int Index)>();
        var parkedAt = new List<(int Work, int Index)>();
        var parked = new Dictionary<string, ParkedEvent>(_parked, StringComparer.Ordinal);
        var parkedChanged = false;
        var highest = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var w = 0; w < batch.Count; w++)
        {
            var events = batch[w].Events;
            verdicts[w] = new EntryVerdict[events.Count];
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                if (_log.FindEvent(e.EventId) is null)
                {
                    if (parked.ContainsKey(e.EventId))
                    {
                        // Parked already (a redelivery of an acknowledged entry): it is safe where it is.
                        parkedAt.Add((w, i));
                        continue;
                    }
                    var known = Highest(e.StreamId, highest);
                    if (e.Sequence > known + 1 && _options.GapGrace > TimeSpan.Zero && parked.Count < _options.MaxParked)
                    {
                        parked[e.EventId] = new ParkedEvent(e, now);
                        parkedChanged = true;
                        parkedAt.Add((w, i));
                        Interlocked.Increment(ref _held);
                        continue;
                    }
                    highest[e.StreamId] = Math.Max(known, e.Sequence);
                }
                accepted.Add(e);
                acceptedAt.Add((w, i));
            }
        }
        parkedChanged |= Release(parked, accepted, highest, now);

        var ok = true;
        AppendPlan? plan = null;
        if (accepted.Count > 0 || parkedChanged)
        {
            plan = _log.Plan(accepted);
            ok = (plan.IsEmpty && !parkedChanged) || await WriteAsync(plan, parkedChanged ? parked : null, cancellationToken);
        }
        for (var k = 0; k < acceptedAt.Count; k++)
        {
            var (w, i) = acceptedAt[k];
            verdicts[w][i] = ok ? EntryVerdict.Success : EntryVerdict.Retry;
            if (ok)
            {
                Count(plan!.Outcomes[k], accepted[k]);
            }
        }
        foreach (var (w, i) in parkedAt)
        {
            verdicts[w][i] = ok ? EntryVerdict.Success : EntryVerdict.Retry;
        }
        if (ok && plan is not null)
        {
            metrics.Batch(plan.Records.Count);
        }
        lock (_gate)
        {
            // Only now, with the batch's duplicates and conflicts counted, may a status waiter see the new watermark.
            ReleaseWaiters();
        }
        for (var w = 0; w < batch.Count; w++)
        {
            batch[w].Done.TrySetResult(verdicts[w]);
        }
    }

    private long Highest(string streamId, Dictionary<string, long> highest) =>
        highest.TryGetValue(streamId, out var h) ? h : _log.FindStream(streamId)?.HighestSequence ?? 0;

    /// <summary>
    /// Moves parked events whose gap has closed (the stream reached the sequence before theirs) or whose grace has
    /// passed (appended flagged as a gap) into <paramref name="accepted"/>, in sequence order per stream.
    /// </summary>
    private bool Release(Dictionary<string, ParkedEvent> parked, List<IncomingEvent> accepted, Dictionary<string, long> highest, DateTimeOffset now)
    {
        if (parked.Count == 0)
        {
            return false;
        }
        var changed = false;
        var ordered = parked.Values.OrderBy(p => p.Event.StreamId, StringComparer.Ordinal).ThenBy(p => p.Event.Sequence).ToList();
        bool progress;
        do
        {
            progress = false;
            foreach (var p in ordered)
            {
                if (!parked.ContainsKey(p.Event.EventId))
                {
                    continue;
                }
                var known = Highest(p.Event.StreamId, highest);
                if (p.Event.Sequence <= known + 1 || now - p.Since >= _options.GapGrace)
                {
                    parked.Remove(p.Event.EventId);
                    accepted.Add(p.Event);
                    highest[p.Event.StreamId] = Math.Max(known, p.Event.Sequence);
                    changed = progress = true;
                }
            }
        }
        while (progress);
        return changed;
    }

    private void Count(AppendOutcome outcome, IncomingEvent e)
    {
        switch (outcome.Status)
        {
            case AppendStatus.Duplicate:
                Interlocked.Increment(ref _duplicates);
                break;
            case AppendStatus.Conflict:
                Interlocked.Increment(ref _conflicts);
                LogConflict(logger, e.EventId, outcome.Position);
                break;
        }
    }

    /// <summary>When the earliest parked event's grace ends (null: nothing parked).</summary>
    private DateTimeOffset? NextRelease() =>
        _parked.Count == 0 ? null : _parked.Values.Min(p => p.Since) + _options.GapGrace;

    /// <summary>Writes a plan and takes it into memory; false (memory untouched, head re-read) when the write failed.</summary>
    private async Task<bool> WriteAsync(AppendPlan plan, Dictionary<string, ParkedEvent>? parked, CancellationToken cancellationToken)
    {
        try
        {
            await store.WriteAsync(plan, _headETag, parked?.Values.ToList(), cancellationToken);
        }
        catch (Exception e) when (e is DaprException or HttpRequestException or Grpc.Core.RpcException && !cancellationToken.IsCancellationRequested)
        {
            LogWriteFailed(logger, plan.Records.Count, e.Message);
            await ResyncAsync(cancellationToken);
            return false;
        }
        var now = time.GetUtcNow();
        lock (_gate)
        {
            _log.Apply(plan);
            _views.CatchUp(_log.Records);
            if (parked is not null)
            {
                _parked = parked;
            }
        }
        Interlocked.Add(ref _appended, plan.Records.Count);
        foreach (var record in plan.Records)
        {
            if (record.Kind == RecordKind.Event)
            {
                _lag.Add(Math.Max(0, (now - record.OccurredAt).TotalMilliseconds));
            }
        }
        await RefreshHeadETagAsync(cancellationToken);
        MaybeSnapshot();
        return true;
    }

    private async Task RefreshHeadETagAsync(CancellationToken cancellationToken)
    {
        try
        {
            var (head, etag) = await store.ReadHeadAsync(cancellationToken);
            if (head.Position == _log.Head.Position)
            {
                _headETag = etag;
                return;
            }
        }
        catch (Exception e) when (e is DaprException or HttpRequestException or Grpc.Core.RpcException && !cancellationToken.IsCancellationRequested)
        {
            LogWriteFailed(logger, 0, e.Message);
        }
        await ResyncAsync(cancellationToken);
    }

    /// <summary>After a failed write: takes what another writer appended, or refreshes the ETag when nothing was.</summary>
    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        try
        {
            var (head, etag) = await store.ReadHeadAsync(cancellationToken);
            if (head.Position > _log.Head.Position)
            {
                var tail = await store.ReadRecordsAsync(_log.Head.Position + 1, head.Position, _options.ReadPage, cancellationToken);
                lock (_gate)
                {
                    _log.Extend(tail);
                    _views.CatchUp(_log.Records);
                    ReleaseWaiters();
                }
            }
            else if (head.Position < _log.Head.Position || !head.Hash.AsSpan().SequenceEqual(_log.Head.Hash))
            {
                _problem = $"the stored head (position {head.Position}) is behind or off this replica's log (position {_log.Head.Position})";
                _ready = false;
                LogChainBroken(logger, head.Position, _problem);
                return;
            }
            _headETag = etag;
        }
        catch (ChainBrokenException e)
        {
            _problem = e.Message;
            _ready = false;
            LogChainBroken(logger, e.Report.FirstBadPosition, e.Report.Problem ?? "");
        }
        catch (Exception e) when (e is DaprException or HttpRequestException or Grpc.Core.RpcException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            // The next batch's write will fail on the stale ETag and come back here.
            LogWriteFailed(logger, 0, e.Message);
        }
    }

    private void MaybeSnapshot()
    {
        if (_log.Head.Position - Interlocked.Read(ref _snapshotWatermark) < _options.SnapshotEvery || !_snapshotSaving.IsCompleted)
        {
            return;
        }
        ViewSet copy;
        lock (_gate)
        {
            copy = _views.Copy();
        }
        Interlocked.Exchange(ref _snapshotWatermark, copy.Watermark);
        _snapshotSaving = Task.Run(async () =>
        {
            var snapshot = copy.Snapshot();
            try
            {
                await SaveSnapshotAsync(snapshot, CancellationToken.None);
            }
            catch (Exception e) when (e is DaprException or HttpRequestException or Grpc.Core.RpcException)
            {
                LogSnapshotFailed(logger, snapshot.Watermark, e.InnerException?.Message ?? e.Message);
            }
        });
    }

    private async Task<StoredSnapshot> SaveSnapshotAsync(ViewSnapshot snapshot, CancellationToken cancellationToken)
    {
        var stored = new StoredSnapshot(snapshot.Watermark, snapshot.Hash, SnapshotCodec.Encode(snapshot));
        await store.SaveSnapshotAsync(stored, cancellationToken);
        Interlocked.Exchange(ref _snapshotWatermark, snapshot.Watermark);
        metrics.Snapshot(stored.Blob.Length);
        return stored;
    }

    private async Task RunOneAsync(Work work, CancellationToken cancellationToken)
    {
        switch (work)
        {
            case RollbackWork rollback:
                await RollbackNowAsync(rollback, cancellationToken);
                break;
            case RestoreWork restore:
                await RestoreNowAsync(restore, cancellationToken);
                break;
        }
    }

    private async Task RollbackNowAsync(RollbackWork work, CancellationToken cancellationToken)
    {
        var error = RollbackPlanner.Validate(_log.Head, work.Marker);
        if (error != RollbackError.None)
        {
            work.Done.TrySetException(new RollbackRefusedException(error, work.Marker.ToPosition, _log.Head.Position));
            return;
        }
        var plan = _log.PlanRollback(work.Marker);
        if (!await WriteAsync(plan, null, cancellationToken))
        {
            work.Done.TrySetException(new LogUnavailableException("the rollback marker could not be written; try again"));
            return;
        }
        lock (_gate)
        {
            ReleaseWaiters();
        }
        int rolledBack;
        string hash;
        lock (_gate)
        {
            rolledBack = LiveSet.RolledBack(_log.Records).Count;
            hash = _views.ContentHash();
        }
        LogRolledBack(logger, work.Marker.ToPosition, plan.NewHead.Position, work.Marker.By, work.Marker.Reason);
        work.Done.TrySetResult(new RollbackResult(plan.NewHead.Position, work.Marker.ToPosition, rolledBack, hash));
    }

    private async Task RestoreNowAsync(RestoreWork work, CancellationToken cancellationToken)
    {
        try
        {
            var (head, _) = await store.ReadHeadAsync(cancellationToken);
            if (head.Position != 0 || _log.Head.Position != 0)
            {
                throw new RestoreRefusedException($"the store already holds a log (position {Math.Max(head.Position, _log.Head.Position)}); restore needs an empty store");
            }
            var started = Stopwatch.GetTimestamp();
            var log = EventLog.Restore(work.Records);
            await store.WriteRestoredAsync(work.Records, log, 500, cancellationToken);
            ViewSet views;
            try
            {
                views = work.Snapshot is { } s && s.Watermark <= work.Records.Count ? ViewSet.Restore(s) : ViewSet.Rebuild(work.Records);
                views.CatchUp(work.Records);
            }
            catch (ArgumentException)
            {
                views = ViewSet.Rebuild(work.Records);
            }
            var (_, etag) = await store.ReadHeadAsync(cancellationToken);
            lock (_gate)
            {
                _log = log;
                _views = views;
                _headETag = etag;
                ReleaseWaiters();
            }
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            work.Done.TrySetResult(new RestoreResult(work.Records.Count, log.Head.Position, views.ContentHash(), elapsed));
        }
        catch (Exception e)
        {
            work.Done.TrySetException(e);
        }
    }

    private abstract class Work
    {
        public abstract void Cancel();
    }

    private abstract class Work<T> : Work
    {
        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Cancel() => Done.TrySetException(new LogUnavailableException("the log is shutting down"));
    }

    private sealed class AppendWork(IReadOnlyList<IncomingEvent> events) : Work<EntryVerdict[]>
    {
        public IReadOnlyList<IncomingEvent> Events { get; } = events;

        public override void Cancel() => Done.TrySetResult(Enumerable.Repeat(EntryVerdict.Retry, Events.Count).ToArray());
    }

    private sealed class RollbackWork(RollbackMarker marker) : Work<RollbackResult>
    {
        public RollbackMarker Marker { get; } = marker;
    }

    private sealed class RestoreWork(IReadOnlyList<LogRecord> records, ViewSnapshot? snapshot) : Work<RestoreResult>
    {
        public IReadOnlyList<LogRecord> Records { get; } = records;

        public ViewSnapshot? Snapshot { get; } = snapshot;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "a batch failed unexpectedly; its entries will be redelivered")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "log recovered: position {Position}, views at {Watermark}, in {Milliseconds:F0} ms")]
    private static partial void LogRecovered(ILogger logger, long position, long watermark, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "log recovery waits for the store: {Reason}")]
    private static partial void LogRecoveryRetry(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "the log's chain is broken at position {Position}: {Problem}; appends stopped")]
    private static partial void LogChainBroken(ILogger logger, long position, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "writing {Records} records failed, entries will be redelivered: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, int records, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "event {EventId} was logged at {Position} with different content; the first write stands")]
    private static partial void LogConflict(ILogger logger, string eventId, long position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "views snapshot at {Watermark} refused ({Reason}); rebuilding from the log")]
    private static partial void LogSnapshotRefused(ILogger logger, long watermark, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "views snapshot at {Watermark} not saved: {Reason}")]
    private static partial void LogSnapshotFailed(ILogger logger, long watermark, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rolled back to position {ToPosition} by marker {Marker} ({By}: {Reason})")]
    private static partial void LogRolledBack(ILogger logger, long toPosition, long marker, string by, string reason);
}

/// <summary>The log cannot take the request now (recovering, a broken chain, shutting down, a failed write).</summary>
public sealed class LogUnavailableException(string message) : Exception(message);

public sealed class RollbackRefusedException(RollbackError error, long toPosition, long head)
    : Exception(error == RollbackError.TargetOutOfRange
        ? $"position {toPosition} is not before the head ({head})"
        : "a rollback needs who asked for it and why")
{
    public RollbackError Error { get; } = error;
}

public sealed class RestoreRefusedException(string message) : Exception(message);
