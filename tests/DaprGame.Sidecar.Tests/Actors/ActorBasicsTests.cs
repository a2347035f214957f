using System.Net;
using System.Text;
using Dapr.Actors;
using DaprGame.Sidecar.Actors;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Testing;

namespace DaprGame.Sidecar.Tests.Actors;

/// <summary>One replica driven through the official Dapr.Actors SDK: calls, state, errors, reentrancy, start-up checks.</summary>
[Collection("actors")]
public sealed class ActorBasicsTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-actors-").FullName;
    private ActorNode _node = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _node = await ActorNode.StartAsync("one", ActorNode.SqliteResources(Path.Combine(_folder, "actors.db")), new SidecarEnvironment { Registry = new InProcessAppRegistry() });

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private static string NewId() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Remoting_and_non_remoting_calls_keep_state_between_turns()
    {
        var id = NewId();
        var proxy = _node.Proxy<ITestActor>(id);
        Assert.Equal(1, await proxy.IncrementAsync());
        Assert.Equal(2, await proxy.IncrementAsync());
        Assert.Equal(2, await _node.Untyped(id).InvokeMethodAsync<int>(nameof(ITestActor.GetCountAsync), Ct));
    }

    [Fact]
    public async Task Five_hundred_calls_from_one_caller_arrive_in_order()
    {
        var id = NewId();
        var proxy = _node.Proxy<ITestActor>(id);
        for (var i = 0; i < 500; i++)
        {
            await proxy.RecordAsync(i);
        }
        Assert.Equal(Enumerable.Range(0, 500), ActorProbe.Order[id]);
    }

    [Fact]
    public async Task The_turn_lock_grants_waiters_in_arrival_order()
    {
        var turns = new ActorTurnLock();
        Assert.False(await turns.EnterAsync(null, 32));
        var order = new List<int>();
        var waiters = Enumerable.Range(0, 500).Select(async i =>
        {
            await turns.EnterAsync(null, 32);
            order.Add(i);
            turns.Exit();
        }).ToList();
        turns.Exit();
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(Enumerable.Range(0, 500), order);
    }

    [Fact]
    public async Task A_remoting_exception_reaches_the_caller_as_ActorMethodInvocationException()
    {
        var e = await Assert.ThrowsAsync<ActorMethodInvocationException>(() => _node.Proxy<ITestActor>(NewId()).FailAsync());
        Assert.Contains("failed on purpose", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_non_remoting_method_answering_500_maps_to_DaprApiException()
    {
        var e = await Assert.ThrowsAsync<Dapr.DaprApiException>(() => _node.Untyped(NewId()).InvokeMethodAsync(nameof(ITestActor.FailAsync), Ct));
        Assert.Equal("ERR_ACTOR_INVOKE_METHOD", e.ErrorCode);
    }

    [Fact]
    public async Task Actor_state_TTL_is_refused_without_the_ActorStateTTL_feature()
    {
        var id = NewId();
        await Assert.ThrowsAsync<ActorMethodInvocationException>(() => _node.Proxy<ITestActor>(id).SaveWithTtlAsync());
        await _node.Proxy<ITestActor>(id).IncrementAsync();
        using var http = new HttpClient();
        using var response = await http.PutAsync($"{_node.HttpEndpoint}/v1.0/actors/TestActor/{id}/state",
            new StringContent("""[{"operation":"upsert","request":{"key":"k","value":1,"metadata":{"ttlInSeconds":"30"}}}]""", Encoding.UTF8, "text/plain"), Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("ERR_ACTOR_STATE_TRANSACTION_SAVE", body, StringComparison.Ordinal);
        Assert.Contains("ActorStateTTL", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reentrancy_lets_a_call_chain_back_in_up_to_the_max_depth()
    {
        var id = NewId();
        Assert.Equal("ok", await _node.Proxy<ITestActor>(id, nameof(ReentrantActor)).CallSelfAsync(3));
        await Assert.ThrowsAsync<ActorMethodInvocationException>(() => _node.Proxy<ITestActor>(NewId(), nameof(ReentrantActor)).CallSelfAsync(12));
    }

    [Fact]
    public async Task Without_reentrancy_a_call_back_into_the_same_actor_waits_for_the_turn()
    {
        Assert.Equal("blocked", await _node.Proxy<ITestActor>(NewId()).CallSelfAsync(1));
    }

    [Fact]
    public async Task Metadata_reports_the_actor_runtime_and_active_actors()
    {
        await _node.Proxy<ITestActor>(NewId()).IncrementAsync();
        var metadata = await _node.Sidecar!.Client.GetMetadataAsync(Ct);
        Assert.Contains(metadata.Actors, a => a.Type == nameof(TestActor) && a.Count >= 1);
    }

    [Fact]
    public async Task Start_up_fails_in_one_line_when_actors_exist_but_no_actor_state_store()
    {
        var env = new SidecarEnvironment { Registry = new InProcessAppRegistry() };
        var e = await Assert.ThrowsAsync<DaprGame.Sidecar.Components.ResourceException>(async () =>
        {
            await using var node = await ActorNode.StartAsync("nostore", ActorNode.SqliteResources(Path.Combine(_folder, "other.db"), actorStore: false), env);
        });
        Assert.Contains("actorStateStore", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}
