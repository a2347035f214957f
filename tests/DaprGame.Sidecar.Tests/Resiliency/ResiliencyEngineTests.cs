using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.Resiliency;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>The engine on its own: backoff arithmetic, policy resolution order, breaker states, executor rules.</summary>
public sealed class ResiliencyEngineTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Exponential_backoff_grows_by_1_5_from_the_initial_interval_and_caps_at_maxInterval()
    {
        var policy = new RetryPolicy("r", Exponential: true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), -1);

        Assert.Equal(TimeSpan.FromSeconds(1), policy.DelayFor(1));
        Assert.Equal(TimeSpan.FromSeconds(1.5), policy.DelayFor(2));
        Assert.Equal(TimeSpan.FromSeconds(2.25), policy.DelayFor(3));
        Assert.Equal(TimeSpan.FromSeconds(10), policy.DelayFor(7)); // 1.5^6 = 11.39 s, capped
        Assert.Equal(TimeSpan.FromSeconds(10), policy.DelayFor(50));
    }

    [Fact]
    public void Exponential_jitter_spans_half_to_one_and_a_half_of_the_interval_and_constant_has_none()
    {
        var exponential = new RetryPolicy("r", Exponential: true, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), -1);
        var constant = new RetryPolicy("c", Exponential: false, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), -1);

        Assert.Equal(TimeSpan.FromSeconds(1), exponential.DelayFor(1, random: 0));
        Assert.Equal(TimeSpan.FromSeconds(2), exponential.DelayFor(1, random: 0.5));
        Assert.InRange(exponential.DelayFor(1, random: 0.999999), TimeSpan.FromSeconds(2.999), TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(1.5), exponential.DelayFor(2, random: 0)); // 3 s × 0.5
        Assert.Equal(TimeSpan.FromSeconds(2), constant.DelayFor(4, random: 0));
        Assert.Equal(TimeSpan.FromSeconds(2), constant.DelayFor(4, random: 0.99));
    }

    [Theory]
    [InlineData(-1, 1000, true)]
    [InlineData(0, 0, false)]
    [InlineData(5, 4, true)]
    [InlineData(5, 5, false)]
    public void MaxRetries_minus_one_is_unlimited_and_zero_is_none(int maxRetries, int retriesSoFar, bool allowed) =>
        Assert.Equal(allowed, new RetryPolicy("r", false, TimeSpan.Zero, TimeSpan.Zero, maxRetries).Allows(retriesSoFar));

    [Fact]
    public void Policies_resolve_named_target_then_most_specific_default_then_general_each_kind_on_its_own()
    {
        var spec = new ResiliencySpec();
        RetryPolicy Retry(string name) => spec.Retries[name] = new RetryPolicy(name, false, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), 3);
        var general = Retry("DefaultRetryPolicy");
        var app = Retry("DefaultAppRetryPolicy");
        var named = Retry("named");
        var component = Retry("DefaultComponentRetryPolicy");
        var outbound = Retry("DefaultComponentOutboundRetryPolicy");
        var stateOutbound = Retry("DefaultStatestoreComponentOutboundRetryPolicy");
        spec.Timeouts["DefaultTimeoutPolicy"] = TimeSpan.FromSeconds(9);
        spec.Apps["special"] = new TargetPolicies(null, named, null);

        Assert.Same(named, spec.Resolve(ResiliencyTargetKind.App, "special").Retry);
        Assert.Equal(TimeSpan.FromSeconds(9), spec.Resolve(ResiliencyTargetKind.App, "special").Timeout);
        Assert.Same(app, spec.Resolve(ResiliencyTargetKind.App, "other").Retry);
        Assert.Same(general, spec.Resolve(ResiliencyTargetKind.Actor, "Player").Retry);
        Assert.Same(stateOutbound, spec.Resolve(ResiliencyTargetKind.ComponentOutbound, "store", "Statestore").Retry);
        Assert.Same(outbound, spec.Resolve(ResiliencyTargetKind.ComponentOutbound, "pubsub", "Pubsub").Retry);
        Assert.Same(component, spec.Resolve(ResiliencyTargetKind.ComponentInbound, "pubsub", "Pubsub").Retry);
        Assert.Null(spec.Resolve(ResiliencyTargetKind.App, "x").CircuitBreaker);
    }

    [Fact]
    public void Resiliency_yaml_reads_matching_codes_default_policy_names_and_refuses_unsupported_scopes()
    {
        var folder = Directory.CreateTempSubdirectory("daprgame-res-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "r.yaml"), ResiliencyYaml.Resiliency("""
                retries:
                  DefaultAppRetryPolicy:
                    policy: exponential
                    maxInterval: 10s
                    matching:
                      httpStatusCodes: "429,500-503"
                circuitBreakers:
                  DefaultActorCircuitBreakerPolicy:
                    trip: consecutiveFailures >= 3
                """, "apps: {}"));
            var options = new SidecarOptions { AppId = "a", WorkingDirectory = folder };
            options.ResourcesPaths.Add(folder);
            var set = ResourceLoader.Load(options);

            var retry = set.Resiliency.Resolve(ResiliencyTargetKind.App, "any").Retry!;
            Assert.True(retry.Exponential);
            Assert.Equal(TimeSpan.FromMilliseconds(500), retry.Duration);
            Assert.True(retry.RetriesHttpStatus(429));
            Assert.True(retry.RetriesHttpStatus(502));
            Assert.False(retry.RetriesHttpStatus(504));
            Assert.Equal(3, set.Resiliency.Resolve(ResiliencyTargetKind.Actor, "Player").CircuitBreaker!.ConsecutiveFailures);

            File.WriteAllText(Path.Combine(folder, "r.yaml"), ResiliencyYaml.Resiliency("retries: {}", "actors:\n  Player:\n    circuitBreakerScope: id"));
            var error = Assert.Throws<ResourceException>(() => ResourceLoader.Load(options));
            Assert.Contains("circuitBreakerScope", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(500, null, AttemptVerdict.RetriableFailure)]
    [InlineData(503, null, AttemptVerdict.RetriableFailure)]
    [InlineData(404, null, AttemptVerdict.Success)]
    [InlineData(429, null, AttemptVerdict.Success)]
    [InlineData(429, "429", AttemptVerdict.RetriableFailure)]
    [InlineData(503, "429", AttemptVerdict.Failure)]
    [InlineData(200, "200-599", AttemptVerdict.RetriableFailure)]
    public void Invocation_answers_are_failures_when_5xx_and_retried_as_matching_says(int status, string? matching, AttemptVerdict expected)
    {
        var retry = new RetryPolicy("r", false, TimeSpan.Zero, TimeSpan.Zero, 3) { HttpStatusCodes = matching is null ? null : StatusCodeSet.Parse(matching, 100, 599) };
        Assert.Equal(expected, InvocationFeature.Classify(status, retry));
    }

    [Fact]
    public void Breaker_interval_clears_failure_counts_while_closed()
    {
        var clock = new FakeTimeProvider();
        var breaker = new CircuitBreaker(new CircuitBreakerPolicy("cb", 3, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), 1), clock);

        Fail(breaker, 2);
        clock.Advance(TimeSpan.FromSeconds(10));
        Fail(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Fail(breaker, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Half_open_admits_maxRequests_and_closes_after_that_many_successes()
    {
        var clock = new FakeTimeProvider();
        var breaker = new CircuitBreaker(new CircuitBreakerPolicy("cb", 1, TimeSpan.Zero, TimeSpan.FromSeconds(5), 2), clock);
        Fail(breaker, 1);
        Assert.Throws<CircuitBreakerOpenException>(() => breaker.Enter());

        clock.Advance(TimeSpan.FromSeconds(5));
        var first = breaker.Enter();
        var second = breaker.Enter();
        Assert.Equal("too many requests", Assert.Throws<CircuitBreakerOpenException>(() => breaker.Enter()).Message);
        breaker.Complete(first, success: true);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        breaker.Complete(second, success: true);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task Each_route_of_an_app_has_its_own_breaker_and_only_the_most_recently_used_ones_are_kept()
    {
        var spec = new ResiliencySpec();
        spec.CircuitBreakers["cb"] = new CircuitBreakerPolicy("cb", 1, TimeSpan.Zero, TimeSpan.FromMinutes(1), 1);
        spec.Apps["a"] = new TargetPolicies(null, null, spec.CircuitBreakers["cb"]) { BreakerCacheSize = 2 };
        var app = new ResiliencyPolicies(spec, new FakeTimeProvider(), NullLogger.Instance).ForApp("a")!;

        await Assert.ThrowsAsync<IOException>(() => app.ForEndpoint("orders").ExecuteAsync(_ => throw new IOException("down"), cancellationToken: Ct));
        Assert.Equal(CircuitState.Open, app.ForEndpoint("orders").Breaker!.State);
        var wallet = app.ForEndpoint("wallet");
        Assert.Equal(CircuitState.Closed, wallet.Breaker!.State);
        Assert.Same(app.ForEndpoint("orders"), app.ForEndpoint("orders"));

        // A third route pushes out the least recently used one ("wallet"); "orders" keeps its open breaker.
        Assert.Equal(CircuitState.Closed, app.ForEndpoint("trades").Breaker!.State);
        Assert.Equal(CircuitState.Open, app.ForEndpoint("orders").Breaker!.State);
        Assert.NotSame(wallet, app.ForEndpoint("wallet"));
    }

    [Fact]
    public async Task An_open_breaker_stops_the_retries_at_once()
    {
        var spec = new ResiliencySpec();
        spec.Retries["r"] = new RetryPolicy("r", false, TimeSpan.Zero, TimeSpan.Zero, -1);
        spec.CircuitBreakers["cb"] = new CircuitBreakerPolicy("cb", 3, TimeSpan.Zero, TimeSpan.FromMinutes(1), 1);
        spec.Apps["a"] = new TargetPolicies(null, spec.Retries["r"], spec.CircuitBreakers["cb"]);
        var executor = new ResiliencyPolicies(spec, new FakeTimeProvider(), NullLogger.Instance).ForApp("a")!;
        var calls = 0;

        await Assert.ThrowsAsync<CircuitBreakerOpenException>(() => executor.ExecuteAsync<int>(_ =>
        {
            calls++;
            throw new IOException("down");
        }, _ => AttemptVerdict.Success, cancellationToken: Ct));

        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task Without_retry_permission_a_failure_gets_one_attempt_and_the_last_exception_surfaces()
    {
        var spec = new ResiliencySpec();
        spec.Retries["DefaultRetryPolicy"] = new RetryPolicy("r", false, TimeSpan.Zero, TimeSpan.Zero, 4);
        var executor = new ResiliencyPolicies(spec, TimeProvider.System, NullLogger.Instance).ForComponentOutbound("store", "Statestore")!;
        var calls = 0;

        var error = await Assert.ThrowsAsync<IOException>(() => executor.ExecuteAsync<int>(_ => throw new IOException($"attempt {++calls}"), _ => AttemptVerdict.Success, allowRetries: false, cancellationToken: Ct));
        Assert.Equal("attempt 1", error.Message);

        var retried = await Assert.ThrowsAsync<IOException>(() => executor.ExecuteAsync<int>(_ => throw new IOException($"attempt {++calls}"), _ => AttemptVerdict.Success, cancellationToken: Ct));
        Assert.Equal("attempt 6", retried.Message);
    }

    [Fact]
    public void Built_in_retries_are_daprds_unless_a_resource_redefines_them_by_their_reserved_name()
    {
        var spec = new ResiliencySpec();
        var policies = new ResiliencyPolicies(spec, TimeProvider.System, NullLogger.Instance);
        Assert.Equal((3, TimeSpan.FromSeconds(1)), (policies.BuiltIn(RetryPolicy.BuiltInServiceRetries).MaxRetries, RetryPolicy.BuiltInServiceRetries.DelayFor(1)));
        Assert.Equal(5, policies.BuiltIn(RetryPolicy.BuiltInActorNotFoundRetries).MaxRetries);

        spec.Retries["DaprBuiltInServiceRetries"] = new RetryPolicy("DaprBuiltInServiceRetries", false, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), 6);
        Assert.Equal(6, policies.BuiltIn(RetryPolicy.BuiltInServiceRetries).MaxRetries);
    }

    [Fact]
    public void No_policies_means_no_executor_so_callers_keep_their_fast_path()
    {
        var policies = new ResiliencyPolicies(new ResiliencySpec(), TimeProvider.System, NullLogger.Instance);
        Assert.Null(policies.ForApp("a"));
        Assert.Null(policies.ForActor("Player"));
        Assert.Null(policies.ForComponentOutbound("store", "Statestore"));
    }

    private static void Fail(CircuitBreaker breaker, int times)
    {
        for (var i = 0; i < times; i++)
        {
            breaker.Complete(breaker.Enter(), success: false);
        }
    }
}
