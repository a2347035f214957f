using System.Collections.Concurrent;
using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Actors.Runtime;

namespace DaprGame.Sidecar.Tests.Actors;

/// <summary>Which test app (replica) an actor runs in.</summary>
public sealed record AppName(string Value);

/// <summary>
/// Process-wide observations of the test actors: both replicas of a test run in this process, so overlapping turns
/// and double activations of one id are seen here whichever app they happen in. Keyed by actor id; tests use
/// unique ids.
/// </summary>
public static class ActorProbe
{
    private static readonly ConcurrentDictionary<string, int> InTurn = new();
    private static readonly ConcurrentDictionary<string, int> Active = new();
    public static readonly ConcurrentDictionary<string, int> Overlaps = new();
    public static readonly ConcurrentDictionary<string, int> DoubleActivations = new();
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<int>> Order = new();
    public static readonly ConcurrentDictionary<string, int> Reminders = new();
    public static readonly ConcurrentDictionary<string, int> Timers = new();
    public static readonly ConcurrentDictionary<string, int> FlakyAttempts = new();
    public static readonly ConcurrentDictionary<string, TaskCompletionSource> Deactivated = new();
    private static int _reminderTotal;

    /// <summary>Released once per reminder callback, so a test can wait for progress instead of sleeping.</summary>
    public static readonly SemaphoreSlim ReminderFired = new(0);

    /// <summary>Released once per timer callback.</summary>
    public static readonly SemaphoreSlim TimerFired = new(0);

    public static int ReminderTotal => Volatile.Read(ref _reminderTotal);

    public static void Enter(string id)
    {
        if (InTurn.AddOrUpdate(id, 1, (_, n) => n + 1) > 1)
        {
            Overlaps.AddOrUpdate(id, 1, (_, n) => n + 1);
        }
    }

    public static void Exit(string id) => InTurn.AddOrUpdate(id, 0, (_, n) => n - 1);

    public static void Activated(string id)
    {
        if (Active.AddOrUpdate(id, 1, (_, n) => n + 1) > 1)
        {
            DoubleActivations.AddOrUpdate(id, 1, (_, n) => n + 1);
        }
    }

    public static void Deactivate(string id)
    {
        Active.AddOrUpdate(id, 0, (_, n) => n - 1);
        Deactivated.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public static void Reminded(string key)
    {
        Reminders.AddOrUpdate(key, 1, (_, n) => n + 1);
        Interlocked.Increment(ref _reminderTotal);
        ReminderFired.Release();
    }

    public static void ResetReminders()
    {
        Reminders.Clear();
        Interlocked.Exchange(ref _reminderTotal, 0);
    }
}

public interface ITestActor : IActor
{
    Task<int> IncrementAsync();

    Task<int> GetCountAsync();

    Task<string> WhereAsync();

    Task RecordAsync(int n);

    Task FailAsync();

    /// <summary>Fails (HTTP 500 on a non-remoting call) until it has been called more than <paramref name="failures"/> times.</summary>
    Task FlakyAsync(int failures);

    Task SaveWithTtlAsync();

    Task RegisterRemindersAsync(int count);

    Task StartTimerAsync(string name);

    Task<string> CallSelfAsync(int depth);
}

/// <summary>The plain test actor: not reentrant (a per-type override of the app's reentrancy setting).</summary>
public class TestActor(ActorHost host, AppName app) : Actor(host), ITestActor, IRemindable
{
    protected override Task OnActivateAsync()
    {
        ActorProbe.Activated(Id.GetId());
        return Task.CompletedTask;
    }

    protected override Task OnDeactivateAsync()
    {
        ActorProbe.Deactivate(Id.GetId());
        return Task.CompletedTask;
    }

    public async Task<int> IncrementAsync()
    {
        var id = Id.GetId();
        ActorProbe.Enter(id);
        try
        {
            var n = await StateManager.GetOrAddStateAsync("count", 0) + 1;
            await StateManager.SetStateAsync("count", n);
            await Task.Yield();
            return n;
        }
        finally
        {
            ActorProbe.Exit(id);
        }
    }

    public Task<int> GetCountAsync() => StateManager.GetOrAddStateAsync("count", 0);

    public Task<string> WhereAsync() => Task.FromResult(app.Value);

    public Task RecordAsync(int n)
    {
        ActorProbe.Order.GetOrAdd(Id.GetId(), _ => new ConcurrentQueue<int>()).Enqueue(n);
        return Task.CompletedTask;
    }

    public Task FailAsync() => throw new InvalidOperationException("the test actor failed on purpose");

    public Task FlakyAsync(int failures) =>
        ActorProbe.FlakyAttempts.AddOrUpdate(Id.GetId(), 1, (_, n) => n + 1) <= failures
            ? throw new InvalidOperationException("flaky on purpose")
            : Task.CompletedTask;

    public Task SaveWithTtlAsync() => StateManager.SetStateAsync("short", 1, TimeSpan.FromSeconds(30));

    public async Task RegisterRemindersAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await RegisterReminderAsync($"r{i}", [1, 2, 3], TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(-1));
        }
    }

    public Task StartTimerAsync(string name) =>
        RegisterTimerAsync(name, nameof(OnTimerAsync), [7], TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

    public Task OnTimerAsync(byte[] data)
    {
        ActorProbe.Timers.AddOrUpdate(Id.GetId(), 1, (_, n) => n + 1);
        ActorProbe.TimerFired.Release();
        return Task.CompletedTask;
    }

    public Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        if (state is not [1, 2, 3])
        {
            throw new InvalidOperationException("reminder data did not round-trip");
        }
        ActorProbe.Reminded($"{Id.GetId()}/{reminderName}");
        return Task.CompletedTask;
    }

    public async Task<string> CallSelfAsync(int depth)
    {
        if (depth == 0)
        {
            return "ok";
        }
        var self = ProxyFactory.CreateActorProxy<ITestActor>(Id, this is ReentrantActor ? nameof(ReentrantActor) : nameof(TestActor));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            return await self.CallSelfAsync(depth - 1).WaitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            return "blocked";
        }
    }
}

/// <summary>The same actor, registered as a reentrant type (the app's default).</summary>
public sealed class ReentrantActor(ActorHost host, AppName app) : TestActor(host, app);
