using System.Net;
using System.Text.Json;
using DaprGame.Hosting;
using DaprGame.Sidecar.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;

namespace DaprGame.Hosting.Tests;

/// <summary>What every service gets from AddServiceDefaults: probes, metrics, the Dapr subscription handler, ProblemDetails.</summary>
public sealed class ServiceDefaultsTests : IAsyncLifetime
{
    private WebApplication? _app;
    private readonly HttpClient _http = new();
    private readonly TaskCompletionSource<HealthCheckResult> _readiness = new();

    public async ValueTask InitializeAsync()
    {
        var port = SidecarHost.FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Configuration["APP_ID"] = "defaults-test";
        builder.AddServiceDefaults();
        // A readiness check the test controls: /readyz must follow it, /healthz must not.
        builder.Services.AddHealthChecks().AddAsyncCheck("dependency", () => _readiness.Task);
        _app = builder.Build();
        _app.MapServiceDefaults();
        _app.MapGet("/boom", (HttpContext _) => throw new InvalidOperationException("boom"));
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _http.BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Liveness_ignores_dependencies_while_readiness_reports_them()
    {
        var ct = TestContext.Current.CancellationToken;
        _readiness.SetResult(HealthCheckResult.Unhealthy("store down"));

        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/healthz", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _http.GetAsync("/readyz", ct)).StatusCode);
    }

    [Fact]
    public async Task Metrics_are_exposed_in_prometheus_text_format()
    {
        var ct = TestContext.Current.CancellationToken;
        _readiness.SetResult(HealthCheckResult.Healthy());
        await _http.GetAsync("/readyz", ct);

        var response = await _http.GetAsync("/metrics", ct);
        var body = await response.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE", body, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dapr_subscribe_handler_answers_with_a_json_list()
    {
        var body = await _http.GetStringAsync("/dapr/subscribe", TestContext.Current.CancellationToken);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(body).RootElement.ValueKind);
    }

    [Fact]
    public async Task An_unhandled_error_becomes_problem_details_without_internals()
    {
        var ct = TestContext.Current.CancellationToken;
        var response = await _http.GetAsync("/boom", ct);
        var body = await response.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("boom", body, StringComparison.Ordinal);
    }
}
