using System.Text;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Actors;

/// <summary>A reminder this host owns and has a timer for.</summary>
internal sealed class ScheduledReminder(ReminderRecord record)
{
    public ReminderRecord Record { get; set; } = record;

    public ITimer? Timer { get; set; }

    /// <summary>Failed callbacks (app answered non-200) for the current due time.</summary>
    public int Failures { get; set; }
}

/// <summary>
/// Reminders and timers. Reminders are durable (see <see cref="ReminderStore"/>) and fire on the owning host; the
/// callback is a turn like any call. Catch-up after downtime: a reminder whose due time passed while no host (or no
/// app) was up fires once as soon as it can, and a periodic one then continues on its period from that firing —
/// missed periods are not replayed. While the app cannot be reached the reminder is retried every second and not
/// consumed; when the app answers non-200 it is retried 3 times, 1 s apart, then counted as fired.
/// </summary>
public sealed partial class ActorsFeature
{
    private static string ReminderKey(string type, string id, string name) => string.Concat(type, "||", id, "||", name);

    private ReminderStore Reminders() =>
        _reminderStore ?? throw DaprApiException.Internal("ERR_ACTOR_RUNTIME_NOT_FOUND", "the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: \"true\" in your state store component file?");

    internal async Task RegisterReminderAsync(string type, string id, string name, string? dueTime, string? period, string? ttl, string? data, CancellationToken cancellationToken)
    {
        var store = Reminders();
        var now = _time.GetUtcNow();
        DateTimeOffset due;
        int? repetitions;
        DateTimeOffset? expires;
        try
        {
            (due, _, repetitions, expires) = ActorSchedule.Parse(dueTime, period, ttl, now, allowDays: false, "reminder");
        }
        catch (FormatException e)
        {
            throw ScheduleError("ERR_ACTOR_REMINDER_CREATE", $"error creating actor reminder: {e.Message}");
        }
        if (repetitions == 0)
        {
            throw ScheduleError("ERR_ACTOR_REMINDER_CREATE", "error creating actor reminder: repetitions must be greater than zero");
        }
        var record = new ReminderRecord(type, id, name, data, dueTime, period, ttl, due, expires, repetitions, Guid.NewGuid().ToString("N"));
        try
        {
            await store.MutateAsync(type, id, list =>
            {
                list.RemoveAll(r => r.ActorId == id && r.Name == name);
                list.Add(record);
                return true;
            }, cancellationToken);
        }
        catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
        {
            throw ScheduleError("ERR_ACTOR_REMINDER_CREATE", $"error creating actor reminder: {e.Message}");
        }
        NotifyOwner(type, id, record, removed: null);
    }

    internal async Task<ReminderRecord> GetReminderAsync(string type, string id, string name, CancellationToken cancellationToken)
    {
        ReminderRecord? found;
        try
        {
            found = await Reminders().GetAsync(type, id, name, cancellationToken);
        }
        catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
        {
            throw ScheduleError("ERR_ACTOR_REMINDER_GET", $"error getting actor reminder: {e.Message}");
        }
        return found ?? throw ScheduleError("ERR_ACTOR_REMINDER_NOT_FOUND", "reminder not found", System.Net.HttpStatusCode.NotFound);
    }

    internal async Task UnregisterReminderAsync(string type, string id, string name, CancellationToken cancellationToken)
    {
        try
        {
            await Reminders().MutateAsync(type, id, list => list.RemoveAll(r => r.ActorId == id && r.Name == name) > 0, cancellationToken);
        }
        catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
        {
            throw ScheduleError("ERR_ACTOR_REMINDER_DELETE", $"error deleting actor reminder: {e.Message}");
        }
        NotifyOwner(type, id, null, removed: name);
    }

    /// <summary>Tells the owning host (here, in this process, or in another over the internal route) to (re)schedule or drop the reminder.</summary>
    private void NotifyOwner(string type, string id, ReminderRecord? added, string? removed)
    {
        var owner = _placement.Current.Owner(type, id);
        if (owner?.InstanceId == InstanceId)
        {
            if (added is not null)
            {
                Schedule(added);
            }
            else if (removed is not null)
            {
                Unschedule(ReminderKey(type, id, removed));
            }
        }
        else if (owner?.InProcess is { } peer)
        {
            peer.RemindersChanged(type, id);
        }
        else if (owner is not null)
        {
            _ = NotifyRemoteAsync(owner, type, id);
        }
    }

    private async Task NotifyRemoteAsync(ActorHostMember owner, string type, string id)
    {
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post,
                $"http://{owner.Host}:{owner.HttpPort}{InternalPrefix}/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}/{RemindersChangedPath}");
            message.Headers.TryAddWithoutValidation(Invocation.HttpForwarding.InternalKeyHeader, owner.InternalKey);
            using var response = await _peers.SendAsync(message, CancellationToken.None);
        }
        catch (HttpRequestException e)
        {
            // The owner reloads every reminder it owns at its next placement change anyway.
            _log.LogWarning("could not tell the owner of {Type}/{Id} about a reminder change: {Error}", type, id, e.Message);
        }
    }

    /// <summary>The internal path a peer posts to when a reminder of an actor this host owns changed (never an actor method path, which starts with <c>method/</c>).</summary>
    private const string RemindersChangedPath = "reminders-changed";

    public void RemindersChanged(string actorType, string actorId)
    {
        if (_reminderStore is null || _stopping)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                var records = await _reminderStore.GetPartitionAsync(actorType, actorId, CancellationToken.None);
                var prefix = ReminderKey(actorType, actorId, "");
                foreach (var (key, _) in _reminders)
                {
                    if (key.StartsWith(prefix, StringComparison.Ordinal) && !records.Exists(r => ReminderKey(r.ActorType, r.ActorId, r.Name) == key))
                    {
                        Unschedule(key);
                    }
                }
                foreach (var r in records)
                {
                    Schedule(r);
                }
            }
            catch (Exception e)
            {
                _log.LogWarning("reloading reminders of {Type}/{Id}: {Error}", actorType, actorId, e.Message);
            }
        });
    }

    /// <summary>After a table change: drop reminders of actors that moved away, schedule those this host now owns.</summary>
    private async Task LoadRemindersAsync(PlacementTable table, CancellationToken cancellationToken)
    {
        foreach (var (key, s) in _reminders)
        {
            if (table.Owner(s.Record.ActorType, s.Record.ActorId)?.InstanceId != InstanceId)
            {
                Unschedule(key);
            }
        }
        foreach (var type in _config.Types.Keys)
        {
            List<ReminderRecord> records;
            try
            {
                records = await Reminders().LoadAsync(type, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogError("loading reminders of actor type {Type}: {Error}", type, e.Message);
                continue;
            }
            foreach (var r in records)
            {
                if (table.Owner(r.ActorType, r.ActorId)?.InstanceId == InstanceId)
                {
                    Schedule(r);
                }
            }
        }
    }

    private void Schedule(ReminderRecord record)
    {
        if (_stopping)
        {
            return;
        }
        var key = ReminderKey(record.ActorType, record.ActorId, record.Name);
        var fresh = new ScheduledReminder(record);
        var current = _reminders.AddOrUpdate(key, fresh, (_, old) =>
        {
            if (old.Record.Registration == record.Registration)
            {
                return old;
            }
            old.Timer?.Dispose();
            return fresh;
        });
        if (ReferenceEquals(current, fresh))
        {
            Arm(fresh, record.NextDue);
        }
    }

    private void Arm(ScheduledReminder s, DateTimeOffset at)
    {
        s.Timer?.Dispose();
        var delay = DelayUntil(at);
        if (delay == TimeSpan.Zero)
        {
            // Due already: fire now rather than rely on how a clock treats a zero wait.
            s.Timer = null;
            _ = Task.Run(() => FireReminderAsync(s));
            return;
        }
        s.Timer = _time.CreateTimer(static state => _ = FireAsync((ScheduledReminder)((object[])state!)[1], (ActorsFeature)((object[])state)[0]),
            new object[] { this, s }, delay, Timeout.InfiniteTimeSpan);

        static Task FireAsync(ScheduledReminder s, ActorsFeature f) => f.FireReminderAsync(s);
    }

    /// <summary>
    /// The wait until <paramref name="at"/>, capped at a day: timers cannot wait longer than about 49 days, so a far
    /// due time is reached in steps (a callback that wakes before its due time re-arms instead of firing).
    /// </summary>
    private TimeSpan DelayUntil(DateTimeOffset at)
    {
        var delay = at - _time.GetUtcNow();
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxTimerWait ? MaxTimerWait : delay;
    }

    private static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private void Unschedule(string key)
    {
        if (_reminders.TryRemove(key, out var s))
        {
            s.Timer?.Dispose();
        }
    }

    private bool IsCurrent(ScheduledReminder s) =>
        _reminders.TryGetValue(ReminderKey(s.Record.ActorType, s.Record.ActorId, s.Record.Name), out var now) && ReferenceEquals(now, s);

    private async Task FireReminderAsync(ScheduledReminder s)
    {
        if (_stopping || !IsCurrent(s))
        {
            return;
        }
        var r = s.Record;
        if (_time.GetUtcNow() < r.NextDue)
        {
            // A timer may wake a hair early on a coarse clock; a reminder never fires before its due time.
            Arm(s, r.NextDue);
            return;
        }
        var request = new ActorRequest(r.ActorType, r.ActorId, "method/remind/" + Uri.EscapeDataString(r.Name))
        {
            Body = Encoding.UTF8.GetBytes(CallbackBody(null, r.Data, r.DueTime, r.Period)),
            ContentType = "application/json",
        };
        ActorResult result;
        try
        {
            result = await InvokeOwnedAsync(request, CancellationToken.None);
        }
        catch (Exception e)
        {
            _log.LogWarning("reminder {Name} of {Type}/{Id}: {Error}", r.Name, r.ActorType, r.ActorId, e.Message);
            result = new ActorResult { Unreachable = true };
        }
        if (ReferenceEquals(result, ActorResult.NotOwner))
        {
            Unschedule(ReminderKey(r.ActorType, r.ActorId, r.Name));
            return;
        }
        if (result.Unreachable)
        {
            if (IsCurrent(s))
            {
                Arm(s, _time.GetUtcNow() + RetryDelay);
            }
            return;
        }
        if (result.Status != 200 && ++s.Failures <= 3)
        {
            _log.LogWarning("reminder {Name} of {Type}/{Id}: the app answered {Status}; retrying", r.Name, r.ActorType, r.ActorId, result.Status);
            if (IsCurrent(s))
            {
                Arm(s, _time.GetUtcNow() + RetryDelay);
            }
            return;
        }
        s.Failures = 0;
        var now = _time.GetUtcNow();
        var (every, _) = ActorSchedule.ParsePeriod(r.Period, allowDays: false, "reminder");
        var cancelled = string.Equals(result.Header("X-DaprReminderCancel"), "true", StringComparison.OrdinalIgnoreCase);
        var remaining = r.Remaining is { } n ? n - 1 : (int?)null;
        // On cadence from the due time; a firing that came later than a whole period (downtime) does not replay the
        // missed periods: the next one is a period from now.
        var next = every is { } p ? (r.NextDue + p < now ? now + p : r.NextDue + p) : (DateTimeOffset?)null;
        var done = cancelled || next is null || remaining == 0 || (r.ExpiresAt is { } exp && next > exp);
        var updated = r with { NextDue = next ?? now, Remaining = remaining };
        try
        {
            await Reminders().MutateAsync(r.ActorType, r.ActorId, list =>
            {
                var i = list.FindIndex(x => x.ActorId == r.ActorId && x.Name == r.Name && x.Registration == r.Registration);
                if (i < 0)
                {
                    return false;
                }
                if (done)
                {
                    list.RemoveAt(i);
                }
                else
                {
                    list[i] = updated;
                }
                return true;
            }, CancellationToken.None);
        }
        catch (Exception e)
        {
            _log.LogWarning("reminder {Name} of {Type}/{Id}: could not record the firing: {Error}", r.Name, r.ActorType, r.ActorId, e.Message);
        }
        if (!IsCurrent(s))
        {
            return;
        }
        if (done)
        {
            var key = ReminderKey(r.ActorType, r.ActorId, r.Name);
            _reminders.TryRemove(new KeyValuePair<string, ScheduledReminder>(key, s));
            s.Timer?.Dispose();
            return;
        }
        s.Record = updated;
        Arm(s, updated.NextDue);
    }

    // ---- timers ----

    internal void RegisterTimer(string type, string id, string name, string? dueTime, string? period, string? ttl, string? data, string callback)
    {
        if (!_active.TryGetValue(ActorKey(type, id), out var instance) || instance.Retired)
        {
            throw ScheduleError("ERR_ACTOR_TIMER_CREATE", $"error creating actor timer: can't create timer for actor {type}||{id}: actor not activated");
        }
        var now = _time.GetUtcNow();
        DateTimeOffset due;
        TimeSpan? every;
        int? repetitions;
        DateTimeOffset? expires;
        try
        {
            (due, every, repetitions, expires) = ActorSchedule.Parse(dueTime, period, ttl, now, allowDays: true, "timer");
        }
        catch (FormatException e)
        {
            throw ScheduleError("ERR_ACTOR_TIMER_CREATE", $"error creating actor timer: {e.Message}");
        }
        var timer = new ActorTimer(name, callback, data, dueTime, period, every, repetitions, expires) { NextDue = due };
        lock (instance.Timers)
        {
            if (instance.Timers.Remove(name, out var old))
            {
                old.Timer.Dispose();
            }
            timer.Timer = _time.CreateTimer(static state =>
            {
                var (f, i, t) = ((ActorsFeature, ActorInstance, ActorTimer))state!;
                _ = f.FireTimerAsync(i, t);
            }, (this, instance, timer), DelayUntil(due), Timeout.InfiniteTimeSpan);
            instance.Timers[name] = timer;
        }
    }

    internal void UnregisterTimer(string type, string id, string name)
    {
        if (_active.TryGetValue(ActorKey(type, id), out var instance))
        {
            lock (instance.Timers)
            {
                if (instance.Timers.Remove(name, out var old))
                {
                    old.Timer.Dispose();
                }
            }
        }
    }

    private async Task FireTimerAsync(ActorInstance instance, ActorTimer timer)
    {
        if (_stopping)
        {
            return;
        }
        if (_time.GetUtcNow() < timer.NextDue)
        {
            lock (instance.Timers)
            {
                if (instance.Timers.TryGetValue(timer.Name, out var live) && ReferenceEquals(live, timer))
                {
                    timer.Timer.Change(DelayUntil(timer.NextDue), Timeout.InfiniteTimeSpan);
                }
            }
            return;
        }
        var request = new ActorRequest(instance.Type, instance.Id, "method/timer/" + Uri.EscapeDataString(timer.Name))
        {
            Body = Encoding.UTF8.GetBytes(CallbackBody(timer.Callback, timer.Data, timer.DueTime, timer.Period)),
            ContentType = "application/json",
            TimerOf = instance,
        };
        try
        {
            var result = await InvokeOwnedAsync(request, CancellationToken.None);
            if (ReferenceEquals(result, ActorResult.Dropped) || ReferenceEquals(result, ActorResult.NotOwner))
            {
                return;
            }
            if (result.Status != 200)
            {
                // daprd logs a failed timer callback and keeps the timer running.
                _log.LogWarning("timer {Name} of {Type}/{Id}: callback failed ({Status})", timer.Name, instance.Type, instance.Id, result.Error?.Message ?? result.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        catch (Exception e)
        {
            _log.LogWarning("timer {Name} of {Type}/{Id}: {Error}", timer.Name, instance.Type, instance.Id, e.Message);
        }
        lock (instance.Timers)
        {
            if (!instance.Timers.TryGetValue(timer.Name, out var current) || !ReferenceEquals(current, timer))
            {
                return;
            }
            var now = _time.GetUtcNow();
            if (timer.Remaining is { } n)
            {
                timer.Remaining = n - 1;
            }
            if (timer.Every is not { } every || timer.Remaining == 0 || (timer.ExpiresAt is { } exp && now + every > exp))
            {
                instance.Timers.Remove(timer.Name);
                timer.Timer.Dispose();
                return;
            }
            timer.NextDue = now + every;
            timer.Timer.Change(DelayUntil(timer.NextDue), Timeout.InfiniteTimeSpan);
        }
    }
}
