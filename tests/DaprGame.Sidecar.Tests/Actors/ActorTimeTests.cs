using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Sidecar.Tests.Actors;

/// <summary>
/// Reminders, timers and idle deactivation on a <see cref="FakeTimeProvider"/>: the sidecar's clock only moves
/// when the test advances it, so "not before the due time" is exact; the app and the HTTP calls run for real.
/// </summary>
[Collection("actors")]
public sealed class ActorTimeTests : IAsyncLifetime
{
    private const int Actors = 100;
    private const int PerActor = 10;
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-actors-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private SidecarEnvironment _environment = null!;
    private string _resources = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _environment = new SidecarEnvironment { Registry = new InProcessAppRegistry(), Time = _time };
        _resources = ActorNode.SqliteResources(Path.Combine(_folder, "actors.db"));
        ActorProbe.ResetReminders();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return ValueTask.CompletedTask;
    }

    private static async Task<List<string>> RegisterRemindersAsync(ActorNode node)
    {
        var ids = Enumerable.Range(0, Actors).Select(i => $"rem-{i}-{Guid.NewGuid():N}").ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct },
            async (id, _) => await node.Proxy<ITestActor>(id).RegisterRemindersAsync(PerActor));
        return ids;
    }

    /// <summary>Advances the sidecar clock a second at a time until every reminder fired, waiting on the app's signal between steps.</summary>
    private async Task AdvanceUntilAllFiredAsync(string stage)
    {
        for (var step = 0; ActorProbe.ReminderTotal < Actors * PerActor; step++)
        {
            Assert.True(step < 120, $"{stage}: only {ActorProbe.ReminderTotal} of {Actors * PerActor} reminders fired after {step} steps");
            _time.Advance(TimeSpan.FromSeconds(1));
            var before = ActorProbe.ReminderTotal;
            // On a loaded machine (cold JIT, parallel test projects) firings trickle in: wait for the app's signals
            // up to ~2 s of silence before moving the clock on.
            for (var spin = 0; spin < 100 && ActorProbe.ReminderTotal < Actors * PerActor; spin++)
            {
                await ActorProbe.ReminderFired.WaitAsync(TimeSpan.FromMilliseconds(100), Ct);
                if (ActorProbe.ReminderTotal == before && spin > 20)
                {
                    break;
                }
                before = ActorProbe.ReminderTotal;
            }
        }
        Assert.All(ActorProbe.Reminders.Values, n => Assert.Equal(1, n));
        Assert.Equal(Actors * PerActor, ActorProbe.Reminders.Count);
    }

    [Fact]
    public async Task A_thousand_reminders_due_at_10s_survive_an_app_outage_from_8s_to_20s_and_never_fire_early()
    {
        await using var node = await ActorNode.StartAsync("rem", _resources, _environment);
        await RegisterRemindersAsync(node);

        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal(0, ActorProbe.ReminderTotal);
        await node.StopAppAsync();
        for (var s = 8; s < 20; s++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(0, ActorProbe.ReminderTotal);
        await node.StartAppAsync();
        await AdvanceUntilAllFiredAsync("after the app restart");
    }

    [Fact]
    public async Task Reminders_survive_a_sidecar_restart_and_timers_do_not()
    {
        await using var node = await ActorNode.StartAsync("rem", _resources, _environment);
        var ids = await RegisterRemindersAsync(node);
        var timerId = ids[0];
        await node.Proxy<ITestActor>(timerId).StartTimerAsync("tick");

        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(await ActorProbe.TimerFired.WaitAsync(TimeSpan.FromSeconds(10), Ct), "the timer due at 5 s did not fire by 6 s");
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, ActorProbe.ReminderTotal);
        await node.StopSidecarAsync();
        var ticks = ActorProbe.Timers[timerId];

        _time.Advance(TimeSpan.FromSeconds(12));
        await node.StartSidecarAsync(_resources, _environment);
        await node.Sidecar!.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await AdvanceUntilAllFiredAsync("after the sidecar restart");
        Assert.Equal(ticks, ActorProbe.Timers[timerId]);
    }

    [Fact]
    public async Task An_ISO_period_with_repetitions_fires_on_time_exactly_that_often_then_is_gone()
    {
        await using var node = await ActorNode.StartAsync("rep", _resources, _environment);
        var id = $"rep-{Guid.NewGuid():N}";
        var url = $"{node.HttpEndpoint}/v1.0/actors/TestActor/{id}/reminders/twice";
        using var http = new HttpClient();
        using (var put = await http.PutAsync(url, new StringContent("""{"dueTime":"0h0m10s0ms","period":"R2/PT5S","data":"AQID"}"""), Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, put.StatusCode);
        }
        var key = $"{id}/twice";

        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(0, ActorProbe.Reminders.GetValueOrDefault(key));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        await WaitForFiringsAsync(key, 1);
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(1, ActorProbe.Reminders.GetValueOrDefault(key));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        await WaitForFiringsAsync(key, 2);

        for (var attempt = 0; ; attempt++)
        {
            using var get = await http.GetAsync(url, Ct);
            if (get.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                break;
            }
            Assert.True(attempt < 200, "the reminder was not removed after its last repetition");
            await ActorProbe.ReminderFired.WaitAsync(TimeSpan.FromMilliseconds(20), Ct);
        }
        Assert.Equal(2, ActorProbe.Reminders[key]);
    }

    private static async Task WaitForFiringsAsync(string key, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ActorProbe.Reminders.GetValueOrDefault(key) < count)
        {
            var left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"reminder {key} fired {ActorProbe.Reminders.GetValueOrDefault(key)} times, expected {count}");
            await ActorProbe.ReminderFired.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200), Ct);
        }
    }

    [Fact]
    public async Task An_idle_actor_is_deactivated_and_comes_back_with_its_state()
    {
        await using var node = await ActorNode.StartAsync("idle", _resources, _environment, o => o.ActorIdleTimeout = TimeSpan.FromSeconds(5));
        var id = $"idle-{Guid.NewGuid():N}";
        Assert.Equal(1, await node.Proxy<ITestActor>(id).IncrementAsync());
        var deactivated = ActorProbe.Deactivated.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(deactivated.Task.IsCompleted, "deactivated before the idle timeout");
        _time.Advance(TimeSpan.FromSeconds(2));
        await deactivated.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(2, await node.Proxy<ITestActor>(id).IncrementAsync());
        Assert.Equal(0, ActorProbe.DoubleActivations.GetValueOrDefault(id));
    }
}
