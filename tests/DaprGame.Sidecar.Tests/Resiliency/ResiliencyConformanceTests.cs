// The SDK marks its invocation methods obsolete in favour of plain HttpClient; these tests check exactly that SDK path.
#pragma warning disable CS0618
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapr.Client;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.Resiliency;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>Resiliency conformance with sidecars handing calls to each other in-process.</summary>
public sealed class InProcessResiliencyConformanceTests : ResiliencyConformanceTests
{
    protected override IAppRegistry CreateRegistry() => new InProcessAppRegistry();
}

/// <summary>Resiliency conformance across the loopback HTTP hop between separately registered sidecars.</summary>
public sealed class CrossProcessResiliencyConformanceTests : ResiliencyConformanceTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-registry-").FullName;

    protected override IAppRegistry CreateRegistry() => new FileAppRegistry(_folder);

    protected override void Cleanup() => Directory.Delete(_folder, recursive: true);
}

/// <summary>
/// Dapr's resiliency e2e cases (shared/RELIABILITY.md #16), through service invocation with the official SDK: the
/// caller's sidecar applies the policies for app <c>target</c>, and the flaky app counts what reaches it. Delays run
/// on a virtual clock: retries on one that jumps to each timer, breakers and timeouts on one the test advances.
/// </summary>
public abstract class ResiliencyConformanceTests : IAsyncLifetime
{
    private const string FiveRetries = """
        retries:
          fiveRetries:
            policy: constant
            duration: 1s
            maxRetries: 5
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract IAppRegistry CreateRegistry();

    /// <summary>Removes what <see cref="CreateRegistry"/> created.</summary>
    protected virtual void Cleanup()
    {
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Cleanup();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private Task<InvocationRig> RigAsync(TimeProvider time, string policies, string targets) =>
        InvocationRig.StartAsync(CreateRegistry(), time, new Dictionary<string, string>
        {
            ["resiliency.yaml"] = ResiliencyYaml.Resiliency(policies, targets),
        });

    private static async Task<HttpResponseMessage> InvokeAsync(InvocationRig rig, string method, HttpMethod? verb = null, object? body = null)
    {
        var request = body is null
            ? rig.Caller.Client.CreateInvokeMethodRequest(verb ?? HttpMethod.Post, "target", method)
            : rig.Caller.Client.CreateInvokeMethodRequest<object>(verb ?? HttpMethod.Post, "target", method, [], body);
        return await InvocationRig.Bounded(rig.Caller.Client.InvokeMethodWithResponseAsync(request, Ct), $"invoke {method} did not answer");
    }

    [Fact]
    public async Task Three_failures_then_success_with_maxRetries_5_makes_exactly_4_calls_and_succeeds()
    {
        var clock = new JumpingClock();
        await using var rig = await RigAsync(clock, FiveRetries, "apps:\n  target:\n    retry: fiveRetries");

        using var response = await InvokeAsync(rig, "fail/3/500", body: new { item = "sword" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(4, rig.App.CallsTo("/fail/3/500"));
        // Each attempt carried the whole (chunked, so buffered) body, and the waits were the constant 1 s.
        Assert.All(rig.App.Bodies, b => Assert.Equal("""{"item":"sword"}""", b));
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)], clock.Waits);
    }

    [Fact]
    public async Task Ten_failures_with_maxRetries_5_makes_exactly_6_calls_and_returns_the_apps_failure()
    {
        await using var rig = await RigAsync(new JumpingClock(), FiveRetries, "apps:\n  target:\n    retry: fiveRetries");

        var error = await Assert.ThrowsAsync<InvocationException>(() =>
            rig.Caller.Client.InvokeMethodAsync(HttpMethod.Post, "target", "fail/10/500", Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));

        Assert.Equal(HttpStatusCode.InternalServerError, error.Response?.StatusCode);
        Assert.Equal("failure 6", await error.Response!.Content.ReadAsStringAsync(Ct));
        Assert.Equal(6, rig.App.CallsTo("/fail/10/500"));
    }

    [Fact]
    public async Task A_body_too_large_to_buffer_streams_whole_and_gets_a_single_attempt()
    {
        await using var rig = await RigAsync(new JumpingClock(), FiveRetries, "apps:\n  target:\n    retry: fiveRetries");
        var payload = new string('x', 1_500_000);
        using var http = new HttpClient { BaseAddress = new Uri(rig.Caller.Host.HttpEndpoint) };
        using var content = new StringContent(payload);
        content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1.0/invoke/target/method/fail/10/500") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await InvocationRig.Bounded(http.SendAsync(request, Ct), "large invoke did not answer");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(1, rig.App.CallsTo("/fail/10/500"));
        Assert.Equal(payload.Length, Assert.Single(rig.App.Bodies).Length);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    public async Task A_4xx_answer_is_not_retried(int status)
    {
        await using var rig = await RigAsync(new JumpingClock(), FiveRetries, "apps:\n  target:\n    retry: fiveRetries");

        using var response = await InvokeAsync(rig, $"fail/10/{status}");

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(1, rig.App.CallsTo($"/fail/10/{status}"));
    }

    [Fact]
    public async Task Matching_status_codes_retry_a_listed_4xx_and_leave_an_unlisted_5xx()
    {
        const string policies = """
            retries:
              on429:
                policy: constant
                duration: 1s
                maxRetries: 5
                matching:
                  httpStatusCodes: "429"
            """;
        await using var rig = await RigAsync(new JumpingClock(), policies, "apps:\n  target:\n    retry: on429");

        using var throttled = await InvokeAsync(rig, "fail/2/429");
        using var broken = await InvokeAsync(rig, "fail/2/503");

        Assert.Equal(HttpStatusCode.OK, throttled.StatusCode);
        Assert.Equal(3, rig.App.CallsTo("/fail/2/429"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, broken.StatusCode);
        Assert.Equal(1, rig.App.CallsTo("/fail/2/503"));
    }

    [Fact]
    public async Task Default_app_retry_policy_applies_to_every_app_without_a_named_target()
    {
        const string policies = """
            retries:
              DefaultAppRetryPolicy:
                policy: constant
                duration: 1s
                maxRetries: 2
            """;
        await using var rig = await RigAsync(new JumpingClock(), policies, "apps: {}");

        using var response = await InvokeAsync(rig, "fail/10/500");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(3, rig.App.CallsTo("/fail/10/500"));
    }

    [Fact]
    public async Task The_circuit_breaker_of_a_route_opens_after_6_failures_fails_fast_half_opens_after_its_timeout_and_closes_on_success()
    {
        const string policies = """
            circuitBreakers:
              cb:
                maxRequests: 1
                timeout: 30s
                trip: consecutiveFailures > 5
            """;
        var clock = new FakeTimeProvider();
        await using var rig = await RigAsync(clock, policies, "apps:\n  target:\n    circuitBreaker: cb");
        // daprd keys an app's breakers by "{appId}:{method}": the flaky route's own breaker. It fails 7 times, then answers 200.
        const string route = "fail/7/500";
        var breaker = rig.Caller.Host.Runtime.Resiliency.ForApp("target")!.ForEndpoint(route).Breaker!;
        var timeline = new List<CircuitState> { breaker.State };

        for (var i = 0; i < 6; i++)
        {
            using var failed = await InvokeAsync(rig, route);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }
        timeline.Add(breaker.State);
        using (var fast = await InvokeAsync(rig, route))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, fast.StatusCode);
            var error = await fast.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal("ERR_DIRECT_INVOKE", error.GetProperty("errorCode").GetString());
            Assert.Equal("failed to invoke, id: target, err: circuit breaker is open", error.GetProperty("message").GetString());
        }
        Assert.Equal(6, rig.App.CallsTo("/" + route));
        using (var otherRoute = await InvokeAsync(rig, "healthy"))
        {
            Assert.Equal(HttpStatusCode.OK, otherRoute.StatusCode);   // another method of the app has its own, closed breaker
        }

        // Half-open after the timeout: one probe goes through; its failure opens the breaker again.
        clock.Advance(TimeSpan.FromSeconds(30));
        timeline.Add(breaker.State);
        using (var probe = await InvokeAsync(rig, route))
        {
            Assert.Equal("failure 7", await probe.Content.ReadAsStringAsync(Ct));
        }
        timeline.Add(breaker.State);
        using (var stillOpen = await InvokeAsync(rig, route))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, stillOpen.StatusCode);
        }
        Assert.Equal(7, rig.App.CallsTo("/" + route));

        // Half-open again; a successful probe closes it and calls flow.
        clock.Advance(TimeSpan.FromSeconds(30));
        using (var good = await InvokeAsync(rig, route))
        {
            Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        }
        timeline.Add(breaker.State);
        using (var after = await InvokeAsync(rig, route))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
        Assert.Equal(9, rig.App.CallsTo("/" + route));
        Assert.Equal([CircuitState.Closed, CircuitState.Open, CircuitState.HalfOpen, CircuitState.Open, CircuitState.Closed], timeline);
    }

    [Fact]
    public async Task A_4xx_does_not_count_toward_the_circuit_breaker()
    {
        const string policies = """
            circuitBreakers:
              cb:
                timeout: 30s
                trip: consecutiveFailures >= 2
            """;
        await using var rig = await RigAsync(new FakeTimeProvider(), policies, "apps:\n  target:\n    circuitBreaker: cb");

        for (var i = 0; i < 5; i++)
        {
            using var response = await InvokeAsync(rig, "fail/100/404");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(5, rig.App.CallsTo("/fail/100/404"));
        Assert.Equal(CircuitState.Closed, rig.Caller.Host.Runtime.Resiliency.ForApp("target")!.ForEndpoint("fail/100/404").Breaker!.State);
    }

    [Fact]
    public async Task A_timeout_policy_cuts_a_slow_call_at_the_timeout()
    {
        const string policies = """
            timeouts:
              short: 2s
            """;
        var clock = new FakeTimeProvider();
        await using var rig = await RigAsync(clock, policies, "apps:\n  target:\n    timeout: short");

        var call = InvokeAsync(rig, "slow", HttpMethod.Get);
        await InvocationRig.Bounded(rig.App.SlowArrived, "the slow call did not reach the app");
        Assert.False(call.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(2));
        using var response = await call;

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("ERR_DIRECT_INVOKE", error.GetProperty("errorCode").GetString());
        Assert.Contains("timeout", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
