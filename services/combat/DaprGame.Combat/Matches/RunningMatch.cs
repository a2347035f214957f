using System.Buffers;
using DaprGame.Combat.Actors;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Infrastructure;

namespace DaprGame.Combat.Matches;

/// <summary>A match held by this replica: its simulation, seats and loop. Fields marked "under Gate" need the lock.</summary>
public sealed class RunningMatch(string id, MatchSetup setup, IMatchSimulation simulation, long eventSequence)
{
    private readonly object _signalGate = new();
    private readonly List<(int Tick, bool Parked, TaskCompletionSource Done)> _waiters = [];
    private int _lastTick = -1;
    private int _lastParked = -1;
    private bool _over;

    public string Id { get; } = id;

    public MatchSetup Setup { get; } = setup;

    public string Stream { get; } = "combat/match/" + id;

    public object Gate { get; } = new();

    /// <summary>Under Gate.</summary>
    public IMatchSimulation Simulation { get; } = simulation;

    /// <summary>Under Gate.</summary>
    public Dictionary<string, PlayerSeat> Seats { get; } = new(StringComparer.Ordinal);

    /// <summary>Under Gate: the last sequence number used in the match stream.</summary>
    public long EventSequence { get; set; } = eventSequence;

    public Task? Loop { get; set; }

    public CancellationTokenSource Cancel { get; } = new();

    public string? StopReason { get; set; }

    public FinishCall? Finish { get; set; }

    private long _overruns;

    /// <summary>Ticks of this match that took longer than their period.</summary>
    public long Overruns => Interlocked.Read(ref _overruns);

    internal long CountOverrun() => Interlocked.Increment(ref _overruns);

    /// <summary>Under Gate: journal entries since the last checkpoint.</summary>
    public List<JournalEntry> Pending { get; } = [];

    /// <summary>Under Gate: the journal's chunk keys so far, in order.</summary>
    public List<string> ChunkKeys { get; } = [];

    /// <summary>The ETag of the journal head this loop wrote last (used by the save chain only).</summary>
    public string? HeadETag { get; set; }

    /// <summary>Another loop took this match over (its head was rewritten): this one stops without a result.</summary>
    public bool Superseded { get; set; }

    /// <summary>How many takeovers this match has had; part of loot ids after the first.</summary>
    public int Epoch { get; init; }

    /// <summary>The chain of checkpoint saves (each waits for the previous); await it to know the last one is stored.</summary>
    public Task Saving { get; set; } = Task.CompletedTask;

    /// <summary>Under Gate: reused by every tick's snapshots.</summary>
    public ArrayBufferWriter<byte> SnapshotBuffer { get; } = new(1024);

    public string NextEventId() => $"{Stream}:{++EventSequence}";

    /// <summary>Completes when tick <paramref name="tick"/> is done (<paramref name="parked"/>: and the loop waits for the next period), or the match ended.</summary>
    public Task WaitAsync(int tick, bool parked)
    {
        lock (_signalGate)
        {
            if (_over || (parked ? _lastParked : _lastTick) >= tick)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((tick, parked, done));
            return done.Task;
        }
    }

    internal void Signal(int tick, bool parked)
    {
        lock (_signalGate)
        {
            if (parked)
            {
                _lastParked = tick;
            }
            else
            {
                _lastTick = tick;
            }
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var w = _waiters[i];
                if (w.Parked == parked && w.Tick <= tick)
                {
                    w.Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    internal void SignalAll()
    {
        lock (_signalGate)
        {
            _over = true;
            foreach (var w in _waiters)
            {
                w.Done.TrySetResult();
            }
            _waiters.Clear();
        }
    }
}
