using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Testing;

namespace DaprGame.Sidecar.Tests.Actors;

/// <summary>Two replicas of one app sharing placement and a state.sqlite file, plus a caller sidecar without an app.</summary>
[Collection("actors")]
public sealed class ActorPlacementTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-actors-").FullName;
    private readonly InProcessAppRegistry _registry = new();
    private SidecarEnvironment _environment = null!;
    private string _resources = null!;
    private ActorNode _a = null!;
    private ActorNode _b = null!;
    private TestSidecar _caller = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _environment = new SidecarEnvironment { Registry = _registry };
        _resources = ActorNode.SqliteResources(Path.Combine(_folder, "actors.db"));
        _a = await ActorNode.StartAsync("a", _resources, _environment);
        _b = await ActorNode.StartAsync("b", _resources, _environment);
        _caller = await TestSidecar.StartAsync("caller", new Dictionary<string, string>(), environment: _environment);
        await _caller.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _caller.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private ITestActor Via(string id) =>
        Dapr.Actors.Client.ActorProxy.Create<ITestActor>(new Dapr.Actors.ActorId(id), nameof(TestActor),
            new Dapr.Actors.Client.ActorProxyOptions { HttpEndpoint = _caller.Host.HttpEndpoint, RequestTimeout = TimeSpan.FromSeconds(30) });

    [Fact]
    public async Task Actors_spread_over_both_replicas_and_move_to_the_survivor_with_their_state()
    {
        var ids = Enumerable.Range(0, 40).Select(i => $"spread-{Guid.NewGuid():N}").ToList();
        var where = new Dictionary<string, string>();
        foreach (var id in ids)
        {
            Assert.Equal(1, await Via(id).IncrementAsync());
            where[id] = await Via(id).WhereAsync();
        }
        Assert.Contains("a", where.Values);
        Assert.Contains("b", where.Values);

        await _b.DisposeAsync();
        foreach (var id in ids)
        {
            Assert.Equal("a", await Via(id).WhereAsync());
            Assert.Equal(2, await Via(id).IncrementAsync());
        }
    }

    [Fact]
    public async Task One_actor_hammered_by_200_callers_while_its_owner_restarts_three_times_never_overlaps_or_doubles()
    {
        var id = $"hot-{Guid.NewGuid():N}";
        using var stop = new CancellationTokenSource();
        var succeeded = 0;
        var target = int.MaxValue;
        var progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var callers = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            var proxy = Via(id);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await proxy.IncrementAsync();
                    if (Interlocked.Increment(ref succeeded) >= Volatile.Read(ref target))
                    {
                        Volatile.Read(ref progress).TrySetResult();
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            }
        }, Ct)).ToList();

        async Task ProgressAsync(string what)
        {
            Volatile.Write(ref progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            Volatile.Write(ref target, Volatile.Read(ref succeeded) + 200);
            try
            {
                await Volatile.Read(ref progress).Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"stalled waiting for {what} (succeeded {succeeded}, failed {failures.Count})");
            }
        }

        for (var restart = 0; restart < 3; restart++)
        {
            await ProgressAsync("200 more calls before restart " + (restart + 1));
            var owner = _registry.ActorPlacement.Current.Owner(nameof(TestActor), id)!.InstanceId == _a.InstanceId ? _a : _b;
            await owner.StopSidecarAsync();
            await owner.StopAppAsync();
            await owner.StartAppAsync();
            await owner.StartSidecarAsync(_resources, _environment);
            await owner.Sidecar!.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }
        await ProgressAsync("200 more calls after the last restart");
        await stop.CancelAsync();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(0, ActorProbe.Overlaps.GetValueOrDefault(id));
        Assert.Equal(0, ActorProbe.DoubleActivations.GetValueOrDefault(id));
        Assert.True(failures.IsEmpty, $"{failures.Count} calls failed, first: {failures.FirstOrDefault()}");
        Assert.Equal(succeeded, await Via(id).GetCountAsync());
    }
}
