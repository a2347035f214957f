// The SDK marks its invocation methods obsolete in favour of plain HttpClient; these tests check exactly that SDK path.
#pragma warning disable CS0618
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>
/// Service-invocation access control (Configuration <c>accessControl</c>, checked by the callee's sidecar) and the app
/// API token (<c>APP_API_TOKEN</c>) as a Dapr.AspNetCore app checks it with <c>AddDapr()</c> authentication.
/// </summary>
public sealed class AccessControlTests
{
    private const string Acl = """
        accessControl:
          defaultAction: deny
          trustDomain: public
          policies:
          - appId: caller
            defaultAction: deny
            namespace: default
            operations:
            - name: /allowed/**
              httpVerb: ["GET"]
              action: allow
            - name: /items/*
              httpVerb: ["*"]
              action: allow
          - appId: elsewhere
            namespace: production
            defaultAction: allow
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<InvocationRig> RigAsync() =>
        InvocationRig.StartAsync(new InProcessAppRegistry(), TimeProvider.System, new Dictionary<string, string>(), targetConfiguration: ResiliencyYaml.Configuration(Acl));

    private static async Task<HttpResponseMessage> CallAsync(TestSidecar caller, HttpMethod verb, string method, string appId = "target") =>
        await InvocationRig.Bounded(caller.Client.InvokeMethodWithResponseAsync(caller.Client.CreateInvokeMethodRequest(verb, appId, method), Ct), $"invoke {method}");

    [Theory]
    [InlineData("GET", "allowed/a/b/c", HttpStatusCode.OK)]
    [InlineData("POST", "allowed/a", HttpStatusCode.Forbidden)]
    [InlineData("PUT", "items/7", HttpStatusCode.OK)]
    [InlineData("DELETE", "items/7", HttpStatusCode.OK)]
    [InlineData("GET", "items/7/parts", HttpStatusCode.Forbidden)]
    [InlineData("GET", "admin", HttpStatusCode.Forbidden)]
    public async Task An_allowed_caller_passes_only_where_paths_and_verbs_allow(string verb, string method, HttpStatusCode expected)
    {
        await using var rig = await RigAsync();

        using var response = await CallAsync(rig.Caller, HttpMethod.Parse(verb), method);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, rig.App.TotalCalls);
    }

    [Fact]
    public async Task A_caller_without_a_policy_gets_403_with_daprds_error()
    {
        await using var rig = await RigAsync();
        var stranger = await rig.AddCallerAsync("stranger");

        using var response = await CallAsync(stranger, HttpMethod.Get, "allowed/x");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("ERR_DIRECT_INVOKE", error.GetProperty("errorCode").GetString());
        Assert.Equal("failed to invoke, id: target, err: access control policy has denied access to id: spiffe://public/ns/default/stranger operation: allowed/x verb: GET",
            error.GetProperty("message").GetString());
        Assert.Equal(0, rig.App.TotalCalls);
    }

    [Fact]
    public async Task A_policy_for_another_namespace_does_not_apply()
    {
        await using var rig = await RigAsync();
        var elsewhere = await rig.AddCallerAsync("elsewhere");

        using var response = await CallAsync(elsewhere, HttpMethod.Get, "anything");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task An_app_checking_APP_API_TOKEN_refuses_a_sidecar_with_a_wrong_or_missing_token()
    {
        await using var app = await TokenApp.StartAsync("app-secret");
        var environment = new SidecarEnvironment { Registry = new InProcessAppRegistry() };
        await using var right = await TestSidecar.StartAsync("secured-right", new Dictionary<string, string>(), o => { o.AppPort = app.Port; o.AppApiToken = "app-secret"; }, environment);
        await using var wrong = await TestSidecar.StartAsync("secured-wrong", new Dictionary<string, string>(), o => { o.AppPort = app.Port; o.AppApiToken = "not-the-secret"; }, environment);
        await using var none = await TestSidecar.StartAsync("secured-none", new Dictionary<string, string>(), o => o.AppPort = app.Port, environment);
        await using var caller = await TestSidecar.StartAsync("caller", new Dictionary<string, string>(), environment: environment);
        await InvocationRig.Bounded(Task.WhenAll(right.Host.Ready, wrong.Host.Ready, none.Host.Ready, caller.Host.Ready), "sidecars for the token app did not become ready");

        using var ok = await CallAsync(caller, HttpMethod.Get, "secure", "secured-right");
        using var refused = await CallAsync(caller, HttpMethod.Get, "secure", "secured-wrong");
        using var missing = await CallAsync(caller, HttpMethod.Get, "secure", "secured-none");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("inside", await ok.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
    }

    /// <summary>An app protected as the Dapr docs show: <c>AddAuthentication().AddDapr()</c> and the <c>Dapr</c> policy.</summary>
    private sealed class TokenApp : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private TokenApp(WebApplication app, int port)
        {
            _app = app;
            Port = port;
        }

        public int Port { get; }

        public static async Task<TokenApp> StartAsync(string token)
        {
            var port = SidecarHost.FreePort();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.Services.AddAuthentication().AddDapr(o => o.Token = token);
            builder.Services.AddAuthorization(o => o.AddDapr());
            var app = builder.Build();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapGet("/secure", () => "inside").RequireAuthorization("Dapr");
            await app.StartAsync();
            return new TokenApp(app, port);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
