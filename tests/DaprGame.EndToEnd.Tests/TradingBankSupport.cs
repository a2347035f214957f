using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace DaprGame.EndToEnd.Tests;

/// <summary>What became of one client operation, as Jepsen records it.</summary>
public enum OpOutcome
{
    /// <summary>Not completed yet.</summary>
    Pending,

    /// <summary>It happened (2xx).</summary>
    Ok,

    /// <summary>It definitely did not happen (a 4xx refusal).</summary>
    Fail,

    /// <summary>Unknown: timeout, transport error or 5xx — it may or may not have happened.</summary>
    Info,
}

/// <summary>One operation of the history: invoke (type, process, what) and its completion, with monotonic times.</summary>
public sealed class OpRecord(long id, int process, string type, string what, TimeSpan invokedAt)
{
    public long Id { get; } = id;

    public int Process { get; } = process;

    public string Type { get; } = type;

    public string What { get; } = what;

    public TimeSpan InvokedAt { get; } = invokedAt;

    public TimeSpan CompletedAt { get; set; }

    public OpOutcome Outcome { get; set; }

    /// <summary>The status and error code, or why the outcome is unknown.</summary>
    public string? Note { get; set; }
}

/// <summary>
/// The history of a run, kept in memory: every operation from invoke to ok / fail / info. Checkers read it after the
/// workload; <see cref="Summary"/> prints counts per type and latency percentiles of the completed ones.
/// </summary>
public sealed class OpHistory
{
    private readonly ConcurrentQueue<OpRecord> _ops = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _nextId;

    public IReadOnlyCollection<OpRecord> Ops => _ops;

    public OpRecord Invoke(int process, string type, string what)
    {
        var op = new OpRecord(Interlocked.Increment(ref _nextId), process, type, what, _clock.Elapsed);
        _ops.Enqueue(op);
        return op;
    }

    public void Complete(OpRecord op, OpOutcome outcome, string? note)
    {
        op.CompletedAt = _clock.Elapsed;
        op.Note = note;
        op.Outcome = outcome;
    }

    public int Count(OpOutcome outcome) => _ops.Count(o => o.Outcome == outcome);

    /// <summary>One line: per type ok/fail/info, then p50/p99 latency of every completed operation.</summary>
    public string Summary()
    {
        var types = _ops.GroupBy(o => o.Type).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Count(o => o.Outcome == OpOutcome.Ok)}/{g.Count(o => o.Outcome == OpOutcome.Fail)}/{g.Count(o => o.Outcome == OpOutcome.Info)}");
        var (p50, p99) = Latency();
        return $"history: {_ops.Count} ops (ok/fail/info) {string.Join(", ", types)}; latency p50 {p50:F1} ms, p99 {p99:F1} ms";
    }

    /// <summary>The most frequent notes of the operations with an outcome, for the log.</summary>
    public string TopNotes(OpOutcome outcome, int count = 6) =>
        string.Join("; ", _ops.Where(o => o.Outcome == outcome).GroupBy(o => o.Note ?? "").OrderByDescending(g => g.Count()).Take(count)
            .Select(g => $"{g.Count()}× {g.Key}"));

    public (double P50, double P99) Latency()
    {
        var latencies = _ops.Where(o => o.Outcome != OpOutcome.Pending).Select(o => (o.CompletedAt - o.InvokedAt).TotalMilliseconds).Order().ToList();
        return latencies.Count == 0 ? (0, 0) : (Percentile(latencies, 0.50), Percentile(latencies, 0.99));
    }

    /// <summary>The oldest operations of a type with a given outcome, for failure messages.</summary>
    public string Sample(Func<OpRecord, bool> filter, int count = 5) =>
        string.Join("; ", _ops.Where(filter).Take(count).Select(o =>
            $"#{o.Id} p{o.Process} {o.Type} {o.What} → {o.Outcome} {o.Note} @{o.InvokedAt.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)}s"));

    private static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}

/// <summary>
/// The barrier the clients pass before each operation. Closing it waits until every operation in flight has finished
/// (a quiescent system, for a snapshot read); opening it lets the clients go on. It also keeps the work clock: time
/// counts only while the gate is open.
/// </summary>
public sealed class WorkGate
{
    private readonly object _lock = new();
    private readonly Stopwatch _work = new();
    private TaskCompletionSource _opened = Done();
    private TaskCompletionSource _drained = Done();
    private int _active;
    private bool _closed;

    /// <summary>Time the clients were allowed to run.</summary>
    public TimeSpan Work
    {
        get
        {
            lock (_lock)
            {
                return _work.Elapsed;
            }
        }
    }

    public void Start()
    {
        lock (_lock)
        {
            _work.Start();
        }
    }

    /// <summary>Waits while the gate is closed, then counts the caller as in flight until <see cref="Exit"/>.</summary>
    public async Task EnterAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task opened;
            lock (_lock)
            {
                if (!_closed)
                {
                    _active++;
                    return;
                }
                opened = _opened.Task;
            }
            await opened.WaitAsync(cancellationToken);
        }
    }

    public void Exit()
    {
        lock (_lock)
        {
            _active--;
            if (_closed && _active == 0)
            {
                _drained.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Counts a request its client stopped waiting for as in flight until it ends: the client has moved on, but the
    /// request still runs inside, and a quiescent read must wait for it. Called while the client is itself in flight.
    /// </summary>
    public void Hold(Task request)
    {
        lock (_lock)
        {
            _active++;
        }
        request.ContinueWith(_ => Exit(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Stops new operations; the task completes when the ones in flight have finished.</summary>
    public Task CloseAsync()
    {
        lock (_lock)
        {
            _closed = true;
            _work.Stop();
            _opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_active == 0)
            {
                _drained.TrySetResult();
            }
            return _drained.Task;
        }
    }

    public void Open()
    {
        lock (_lock)
        {
            _closed = false;
            _work.Start();
            _opened.TrySetResult();
        }
    }

    private static TaskCompletionSource Done()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }
}

/// <summary>
/// Completed client operations, as a signal: a waiter names a condition (on the count, the work clock, …) and is woken
/// by the first completion after which it holds — so the nemesis and the snapshots wait on work done, never on a timer.
/// </summary>
public sealed class OpProgress
{
    private readonly object _lock = new();
    private readonly List<(Func<bool> Condition, TaskCompletionSource Done)> _waiters = [];
    private long _completed;

    public long Completed => Interlocked.Read(ref _completed);

    public void OpCompleted()
    {
        Interlocked.Increment(ref _completed);
        Wake();
    }

    /// <summary>Re-checks every waiter (after a completion, or when the workload ends).</summary>
    public void Wake()
    {
        lock (_lock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition())
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    public Task WaitAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (condition())
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, done));
            return done.Task.WaitAsync(cancellationToken);
        }
    }
}
