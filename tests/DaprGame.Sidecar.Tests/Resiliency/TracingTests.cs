// The SDK marks its invocation methods obsolete in favour of plain HttpClient; these tests check exactly that SDK path.
#pragma warning disable CS0618
using System.Diagnostics;
using System.Net;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Invocation;
using DaprGame.Testing;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>
/// The sidecars' own spans: recorded under the caller's <c>traceparent</c>, exported to the Configuration's Zipkin
/// endpoint (an in-process collector here), and none at all with <c>samplingRate: "0"</c>.
/// </summary>
public sealed class TracingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Tracing(string rate, FakeZipkin zipkin) => ResiliencyYaml.Configuration($"""
        tracing:
          samplingRate: "{rate}"
          zipkin:
            endpointAddress: "{zipkin.Endpoint}"
        """);

    private static (string TraceId, string SpanId, string Traceparent) NewContext()
    {
        var trace = ActivityTraceId.CreateRandom().ToHexString();
        var span = ActivitySpanId.CreateRandom().ToHexString();
        return (trace, span, $"00-{trace}-{span}-01");
    }

    [Fact]
    public async Task An_invoke_records_a_caller_and_a_callee_span_in_the_callers_trace_and_the_app_sees_the_callee_span()
    {
        await using var zipkin = await FakeZipkin.StartAsync();
        await using var rig = await InvocationRig.StartAsync(new InProcessAppRegistry(), TimeProvider.System, new Dictionary<string, string>(),
            targetConfiguration: Tracing("1", zipkin), callerConfiguration: Tracing("1", zipkin));
        var (traceId, parentSpan, traceparent) = NewContext();

        var request = rig.Caller.Client.CreateInvokeMethodRequest(HttpMethod.Get, "target", "traced");
        request.Headers.Add("traceparent", traceparent);
        using var response = await InvocationRig.Bounded(rig.Caller.Client.InvokeMethodWithResponseAsync(request, Ct), "invoke traced");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var spans = await zipkin.WaitForAsync(traceId, 2);
        var client = Assert.Single(spans, s => s.Kind == "CLIENT");
        var server = Assert.Single(spans, s => s.Kind == "SERVER");
        Assert.Equal(("caller", parentSpan), (client.ServiceName, client.ParentId));
        Assert.Equal("/v1.0/invoke/target/method/traced", client.Name);
        Assert.Equal(("target", client.Id), (server.ServiceName, server.ParentId));
        Assert.Equal($"00-{traceId}-{server.Id}-01", Assert.Single(rig.App.Traceparents));
    }

    [Fact]
    public async Task A_publish_records_a_producer_span_in_the_callers_trace()
    {
        await using var zipkin = await FakeZipkin.StartAsync();
        var folder = Directory.CreateTempSubdirectory("daprgame-config-").FullName;
        var config = Path.Combine(folder, "config.yaml");
        await File.WriteAllTextAsync(config, Tracing("1", zipkin), Ct);
        try
        {
            await using var sidecar = await TestSidecar.StartAsync("publisher",
                new Dictionary<string, string> { ["pubsub.yaml"] = Yaml.Component("pubsub", "pubsub.in-memory") }, o => o.ConfigPath = config);
            var (traceId, parentSpan, traceparent) = NewContext();

            using var http = new HttpClient { BaseAddress = new Uri(sidecar.Host.HttpEndpoint) };
            using var publish = new HttpRequestMessage(HttpMethod.Post, "/v1.0/publish/pubsub/scores") { Content = new StringContent("""{"score":1}""", System.Text.Encoding.UTF8, "application/json") };
            publish.Headers.Add("traceparent", traceparent);
            using var response = await http.SendAsync(publish, Ct);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

            var span = Assert.Single(await zipkin.WaitForAsync(traceId, 1));
            Assert.Equal(("PRODUCER", "publish/pubsub/scores", parentSpan, "publisher"), (span.Kind, span.Name, span.ParentId, span.ServiceName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_state_call_records_a_server_span_in_the_callers_trace()
    {
        await using var zipkin = await FakeZipkin.StartAsync();
        var folder = Directory.CreateTempSubdirectory("daprgame-config-").FullName;
        var config = Path.Combine(folder, "config.yaml");
        await File.WriteAllTextAsync(config, Tracing("1", zipkin), Ct);
        try
        {
            await using var sidecar = await TestSidecar.StartAsync("stateful",
                new Dictionary<string, string> { ["store.yaml"] = Yaml.Component("store", "state.in-memory") }, o => o.ConfigPath = config);
            var (traceId, parentSpan, traceparent) = NewContext();

            using var http = new HttpClient { BaseAddress = new Uri(sidecar.Host.HttpEndpoint) };
            using var save = new HttpRequestMessage(HttpMethod.Post, "/v1.0/state/store") { Content = new StringContent("""[{"key":"k","value":1}]""", System.Text.Encoding.UTF8, "application/json") };
            save.Headers.Add("traceparent", traceparent);
            using var response = await http.SendAsync(save, Ct);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

            var span = Assert.Single(await zipkin.WaitForAsync(traceId, 1));
            Assert.Equal(("SERVER", "POST /v1.0/state/store", parentSpan), (span.Kind, span.Name, span.ParentId));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Exporters_the_local_sidecar_lacks_are_named_and_a_bad_sampling_rate_is_refused()
    {
        var folder = Directory.CreateTempSubdirectory("daprgame-config-").FullName;
        try
        {
            var config = Path.Combine(folder, "config.yaml");
            var options = new SidecarOptions { AppId = "a", WorkingDirectory = folder, ConfigPath = config };
            File.WriteAllText(config, ResiliencyYaml.Configuration("""
                tracing:
                  samplingRate: "0.5"
                  stdout: true
                  otel:
                    endpointAddress: "localhost:4317"
                """));
            var loaded = ResourceLoader.Load(options).Configuration;
            Assert.Equal(0.5, loaded.SamplingRate);
            Assert.Equal(["otel", "stdout"], loaded.UnsupportedTracing);

            File.WriteAllText(config, ResiliencyYaml.Configuration("tracing:\n  samplingRate: \"2\""));
            Assert.Contains("samplingRate", Assert.Throws<ResourceException>(() => ResourceLoader.Load(options)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Sampling_rate_0_records_nothing_but_still_propagates_the_trace()
    {
        await using var zipkin = await FakeZipkin.StartAsync();
        var (traceId, _, traceparent) = NewContext();
        await using (var rig = await InvocationRig.StartAsync(new InProcessAppRegistry(), TimeProvider.System, new Dictionary<string, string>(),
            targetConfiguration: Tracing("0", zipkin), callerConfiguration: Tracing("0", zipkin)))
        {
            Assert.Null(rig.Caller.Host.Runtime.Tracer);
            var request = rig.Caller.Client.CreateInvokeMethodRequest(HttpMethod.Get, "target", "traced");
            request.Headers.Add("traceparent", traceparent);
            using var response = await InvocationRig.Bounded(rig.Caller.Client.InvokeMethodWithResponseAsync(request, Ct), "invoke traced");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith($"00-{traceId}-", Assert.Single(rig.App.Traceparents), StringComparison.Ordinal);
        }

        // Every sidecar has stopped, and a stopping sidecar flushes its exporter: nothing can still be on its way.
        Assert.Empty(zipkin.Seen);
    }
}
