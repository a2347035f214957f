using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>
/// Virtual time that jumps ahead whenever someone starts waiting for it: every timer created is fired by advancing a
/// <see cref="FakeTimeProvider"/> by its due time at once. Retry delays then cost no wall time while the test still
/// sees exactly which delays were asked for. Not for timeouts (a timeout timer would fire immediately).
/// </summary>
public sealed class JumpingClock : TimeProvider
{
    private readonly FakeTimeProvider _inner = new();
    private readonly ConcurrentQueue<TimeSpan> _waits = new();

    /// <summary>The due times of the timers created, in order.</summary>
    public IReadOnlyCollection<TimeSpan> Waits => _waits;

    public override DateTimeOffset GetUtcNow() => _inner.GetUtcNow();

    public override long GetTimestamp() => _inner.GetTimestamp();

    public override long TimestampFrequency => _inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => _inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = _inner.CreateTimer(callback, state, dueTime, period);
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            _waits.Enqueue(dueTime);
            // Advanced after the caller holds the timer, as a real clock would fire later.
            ThreadPool.QueueUserWorkItem(_ => _inner.Advance(dueTime));
        }
        return timer;
    }
}
