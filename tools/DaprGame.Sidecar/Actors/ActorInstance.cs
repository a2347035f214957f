namespace DaprGame.Sidecar.Actors;

/// <summary>
/// One activation of an actor on its owning host: its turn lock, idle deadline and timers. A retired instance takes
/// no new turns (a call that finds it retired routes again), so deactivation and re-activation never overlap.
/// </summary>
internal sealed class ActorInstance(string type, string id, ActorTypeSettings settings)
{
    private long _idleDeadlineTicks;
    private volatile bool _retired;
    private int _deactivated;

    public string Type { get; } = type;

    public string Id { get; } = id;

    public ActorTypeSettings Settings { get; } = settings;

    public ActorTurnLock Turns { get; } = new();

    /// <summary>Timers by name; guarded by locking the dictionary (timer changes are rare and never awaited under it).</summary>
    public Dictionary<string, ActorTimer> Timers { get; } = new(StringComparer.Ordinal);

    public bool Retired
    {
        get => _retired;
        set => _retired = value;
    }

    public long IdleDeadlineTicks => Volatile.Read(ref _idleDeadlineTicks);

    public void Touch(DateTimeOffset now) => Volatile.Write(ref _idleDeadlineTicks, (now + Settings.IdleTimeout).UtcTicks);

    /// <summary>True exactly once: the caller sends the app its deactivation.</summary>
    public bool TryMarkDeactivated() => Interlocked.Exchange(ref _deactivated, 1) == 0;

    public void StopTimers()
    {
        lock (Timers)
        {
            foreach (var t in Timers.Values)
            {
                t.Timer.Dispose();
            }
            Timers.Clear();
        }
    }
}

/// <summary>A timer as registered (strings verbatim for the callback body) with its live schedule.</summary>
internal sealed class ActorTimer(string name, string callback, string? data, string? dueTime, string? period, TimeSpan? every, int? remaining, DateTimeOffset? expiresAt)
{
    public string Name { get; } = name;

    public string Callback { get; } = callback;

    public string? Data { get; } = data;

    public string? DueTime { get; } = dueTime;

    public string? Period { get; } = period;

    public TimeSpan? Every { get; } = every;

    public int? Remaining { get; set; } = remaining;

    public DateTimeOffset? ExpiresAt { get; } = expiresAt;

    public ITimer Timer { get; set; } = null!;

    /// <summary>When the next callback is due; a wake-up before it re-arms instead of firing.</summary>
    public DateTimeOffset NextDue { get; set; }
}
