using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Resiliency;
using DaprGame.Sidecar.State;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>
/// Component outbound policies around state store calls: a store that faults a set number of times sits behind the
/// real <see cref="StateApi"/>, and the store's outbound policy (named or default) decides how often it is called.
/// </summary>
public sealed class ComponentResiliencyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (StateApi Api, FaultyStore Store) Build(ResiliencySpec spec, TimeProvider time)
    {
        var store = new FaultyStore();
        var handle = new StateStoreHandle(new ComponentSpec("store", "state.in-memory", "v1", new Dictionary<string, string>(), [], "store.yaml"), store);
        var api = new StateApi(ComponentRegistry.ForStateStores(handle), new SidecarOptions { AppId = "app" },
            new ResiliencyPolicies(spec, time, NullLogger.Instance));
        return (api, store);
    }

    private static ResiliencySpec Retrying(string name, int maxRetries)
    {
        var spec = new ResiliencySpec();
        spec.Retries[name] = new RetryPolicy(name, false, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), maxRetries);
        return spec;
    }

    [Fact]
    public async Task The_default_statestore_outbound_retry_policy_retries_a_faulting_store()
    {
        var clock = new JumpingClock();
        var (api, store) = Build(Retrying("DefaultStatestoreComponentOutboundRetryPolicy", 3), clock);
        store.FailNext = 3;

        var item = await api.GetAsync("store", "k", Ct);

        Assert.Null(item);
        Assert.Equal(4, store.Calls);
        Assert.Equal(3, clock.Waits.Count);
    }

    [Fact]
    public async Task Spent_retries_surface_as_daprds_state_error()
    {
        var (api, store) = Build(Retrying("DefaultComponentOutboundRetryPolicy", 2), new JumpingClock());
        store.FailNext = 10;

        var error = await Assert.ThrowsAsync<DaprApiException>(() => api.GetAsync("store", "k", Ct));

        Assert.Equal("ERR_STATE_GET", error.ErrorCode);
        Assert.Equal(3, store.Calls);
    }

    [Fact]
    public async Task An_etag_mismatch_is_an_answer_and_is_not_retried()
    {
        var (api, store) = Build(Retrying("DefaultRetryPolicy", 5), new JumpingClock());
        store.EtagMismatch = true;

        var error = await Assert.ThrowsAsync<DaprApiException>(() =>
            api.SaveAsync("store", [new StateSet("k", [1], "1", Concurrency.FirstWrite, null)], Ct));

        Assert.Equal(System.Net.HttpStatusCode.Conflict, error.HttpStatus);
        Assert.Equal(1, store.Calls);
    }

    [Fact]
    public async Task A_named_outbound_circuit_breaker_fails_fast_once_open()
    {
        var spec = new ResiliencySpec();
        var cb = spec.CircuitBreakers["cb"] = new CircuitBreakerPolicy("cb", 2, TimeSpan.Zero, TimeSpan.FromSeconds(30), 1);
        spec.Components["store/outbound"] = new TargetPolicies(null, null, cb);
        var clock = new FakeTimeProvider();
        var (api, store) = Build(spec, clock);
        store.FailNext = 100;

        for (var i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<DaprApiException>(() => api.GetAsync("store", "k", Ct));
        }
        Assert.Equal(2, store.Calls);

        clock.Advance(TimeSpan.FromSeconds(30));
        store.FailNext = 0;
        Assert.Null(await api.GetAsync("store", "k", Ct));
        Assert.Equal(3, store.Calls);
    }

    /// <summary>A store whose calls fault with an I/O error <see cref="FailNext"/> times, then answer "not found".</summary>
    private sealed class FaultyStore : IStateStore
    {
        public int FailNext { get; set; }

        public bool EtagMismatch { get; set; }

        public int Calls { get; private set; }

        public IReadOnlyList<string> Features { get; } = ["ETAG"];

        public Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken)
        {
            Fault();
            return Task.FromResult<StateItem?>(null);
        }

        public Task SetAsync(StateSet request, CancellationToken cancellationToken)
        {
            Fault();
            return Task.CompletedTask;
        }

        public Task DeleteAsync(StateDelete request, CancellationToken cancellationToken)
        {
            Fault();
            return Task.CompletedTask;
        }

        public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
        {
            Fault();
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private void Fault()
        {
            Calls++;
            if (EtagMismatch)
            {
                throw new ETagMismatchException("etag 1 does not match");
            }
            if (FailNext > 0)
            {
                FailNext--;
                throw new IOException("store unreachable");
            }
        }
    }
}
