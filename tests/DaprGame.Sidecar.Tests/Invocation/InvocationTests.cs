// The SDK marks its invocation methods obsolete in favour of plain HttpClient; these tests check exactly that SDK path.
#pragma warning disable CS0618
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Testing;
using Grpc.Core;

namespace DaprGame.Sidecar.Tests.Invocation;

/// <summary>Sidecars in one process (tests, the multi-app launcher): the caller sidecar hands the call to the callee sidecar directly.</summary>
public sealed class InProcessInvocationTests : InvocationTests
{
    protected override IAppRegistry CreateRegistry() => new InProcessAppRegistry();
}

/// <summary>Separately started sidecars, found through the file registry: the call crosses a loopback HTTP hop between sidecars.</summary>
public sealed class CrossProcessInvocationTests : InvocationTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-registry-").FullName;

    protected override IAppRegistry CreateRegistry() => new FileAppRegistry(_folder);

    protected override void Cleanup() => Directory.Delete(_folder, recursive: true);
}

/// <summary>
/// Service invocation through two sidecars, driven by the official SDK: the caller app's client talks to its
/// sidecar, which forwards to the echo app's sidecar, which calls the echo app on a real loopback port. Every case
/// runs over both ways sidecars reach each other.
/// </summary>
public abstract class InvocationTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> NoResources = [];
    private SidecarEnvironment _environment = null!;
    private EchoApp _echo = null!;
    private TestSidecar _echoSidecar = null!;
    private TestSidecar _caller = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract IAppRegistry CreateRegistry();

    public async ValueTask InitializeAsync()
    {
        _environment = new SidecarEnvironment { Registry = CreateRegistry() };
        _echo = await EchoApp.StartAsync("echo-1");
        _echoSidecar = await TestSidecar.StartAsync("echo", NoResources, o =>
        {
            o.AppPort = _echo.Port;
            o.AppApiToken = "app-secret";
        }, _environment);
        _caller = await TestSidecar.StartAsync("caller", NoResources, environment: _environment, apiToken: "right-token");
        await Task.WhenAll(_echoSidecar.Host.Ready, _caller.Host.Ready).WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _caller.DisposeAsync();
        await _echoSidecar.DisposeAsync();
        await _echo.DisposeAsync();
        Cleanup();
        GC.SuppressFinalize(this);
    }

    /// <summary>Removes what <see cref="CreateRegistry"/> created, after every sidecar has stopped.</summary>
    protected virtual void Cleanup()
    {
    }

    public static TheoryData<string> Verbs => ["GET", "POST", "PUT", "DELETE", "PATCH"];

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Verb_path_query_headers_body_status_and_response_headers_round_trip(string verb)
    {
        var method = HttpMethod.Parse(verb);
        var request = _caller.Client.CreateInvokeMethodRequest(method, "echo", "items/42/parts?x=1&y=two%20words");
        request.Headers.Add("x-custom", "abc");
        request.Headers.Add("x-want-status", "207");
        if (verb != "GET")
        {
            request.Content = JsonContent.Create(new { name = "sword", verb });
        }

        using var response = await _caller.Client.InvokeMethodWithResponseAsync(request, Ct);
        var reply = await ReadAsync(response);

        Assert.Equal(207, (int)response.StatusCode);
        Assert.Equal("yes", response.Headers.GetValues("x-echo-reply").Single());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(verb, reply.Method);
        Assert.Equal("/items/42/parts", reply.Path);
        Assert.Equal("?x=1&y=two%20words", reply.Query);
        Assert.Equal("abc", reply.Headers["x-custom"]);
        Assert.Equal("caller", reply.Headers["dapr-caller-app-id"]);
        Assert.Equal("echo", reply.Headers["dapr-callee-app-id"]);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", reply.Headers["traceparent"]);
        if (verb == "GET")
        {
            Assert.Equal("", reply.Body);
        }
        else
        {
            // The SDK sends the body chunked; it arrives intact and still typed.
            Assert.Equal($$"""{"name":"sword","verb":"{{verb}}"}""", reply.Body);
            Assert.StartsWith("application/json", reply.Headers["Content-Type"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_app_receives_its_APP_API_TOKEN_and_never_the_callers_token()
    {
        var request = _caller.Client.CreateInvokeMethodRequest(HttpMethod.Get, "echo", "whoami");
        using var response = await _caller.Client.InvokeMethodWithResponseAsync(request, Ct);
        var reply = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("app-secret", reply.Headers["dapr-api-token"]);
    }

    [Fact]
    public async Task An_unknown_app_id_gets_daprds_direct_invoke_error()
    {
        var request = _caller.Client.CreateInvokeMethodRequest(HttpMethod.Post, "nobody", "anything");
        using var response = await _caller.Client.InvokeMethodWithResponseAsync(request, Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("ERR_DIRECT_INVOKE", error.GetProperty("errorCode").GetString());
        Assert.StartsWith("failed to invoke, id: nobody, err: ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeMethodAsync_throws_InvocationException_for_an_unknown_app()
    {
        var error = await Assert.ThrowsAsync<InvocationException>(() => _caller.Client.InvokeMethodAsync(HttpMethod.Get, "nobody", "x", Ct));
        Assert.Equal(HttpStatusCode.InternalServerError, error.Response?.StatusCode);
    }

    [Fact]
    public async Task A_missing_app_id_is_404_direct_invoke()
    {
        using var http = RawClient("right-token");
        using var response = await http.GetAsync(new Uri("/v1.0/invoke/method/x", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("ERR_DIRECT_INVOKE", error.GetProperty("errorCode").GetString());
    }

    [Fact]
    public async Task The_dapr_app_id_header_selects_the_target_and_the_path_is_the_method()
    {
        using var http = RawClient("right-token");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/orders/7?rush=true") { Content = new StringContent("plain body", Encoding.UTF8, "text/plain") };
        request.Headers.Add("dapr-app-id", "echo");
        using var response = await http.SendAsync(request, Ct);
        var reply = await ReadAsync(response);

        Assert.Equal("PUT", reply.Method);
        Assert.Equal("/orders/7", reply.Path);
        Assert.Equal("?rush=true", reply.Query);
        Assert.Equal("plain body", reply.Body);
    }

    [Fact]
    public async Task A_large_chunked_body_streams_through_both_sidecars()
    {
        var payload = new string('x', 1_500_000);
        using var http = RawClient("right-token");
        using var content = new StringContent(payload);
        content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1.0/invoke/echo/method/upload") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await http.SendAsync(request, Ct);
        var reply = await ReadAsync(response);

        Assert.Equal(payload.Length, reply.Body.Length);
    }

    [Fact]
    public async Task A_wrong_api_token_gets_401_on_http_while_healthz_stays_exempt()
    {
        using var http = RawClient("wrong-token");

        using var invoke = await http.GetAsync(new Uri("/v1.0/invoke/echo/method/x", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, invoke.StatusCode);
        Assert.Equal("invalid api token", await invoke.Content.ReadAsStringAsync(Ct));

        using var health = await http.GetAsync(new Uri("/v1.0/healthz", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NoContent, health.StatusCode);
        using var outbound = await http.GetAsync(new Uri("/v1.0/healthz/outbound", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NoContent, outbound.StatusCode);
    }

    [Fact]
    public async Task A_wrong_api_token_gets_Unauthenticated_on_grpc()
    {
        using var client = new DaprClientBuilder()
            .UseHttpEndpoint(_caller.Host.HttpEndpoint)
            .UseGrpcEndpoint(_caller.Host.GrpcEndpoint)
            .UseDaprApiToken("wrong-token")
            .Build();

        var error = await Assert.ThrowsAsync<DaprException>(() => client.GetMetadataAsync(Ct));
        Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(error.InnerException).StatusCode);
    }

    [Fact]
    public async Task Several_instances_of_one_app_id_are_called_round_robin()
    {
        await using var second = await EchoApp.StartAsync("echo-2");
        await using var secondSidecar = await TestSidecar.StartAsync("echo", NoResources, o => o.AppPort = second.Port, _environment);
        await secondSidecar.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var seen = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await _caller.Client.InvokeMethodWithResponseAsync(_caller.Client.CreateInvokeMethodRequest(HttpMethod.Get, "echo", "who"), Ct);
            seen.Add((await ReadAsync(response)).Instance);
        }

        Assert.Equal(2, seen.Distinct().Count());
        Assert.NotEqual(seen[0], seen[1]);
        Assert.Equal(seen[0], seen[2]);
    }

    [Fact]
    public async Task An_unreachable_app_gets_500_direct_invoke()
    {
        var app = await EchoApp.StartAsync("doomed");
        await using var sidecar = await TestSidecar.StartAsync("doomed", NoResources, o => o.AppPort = app.Port, _environment);
        await sidecar.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await app.DisposeAsync();

        using var response = await _caller.Client.InvokeMethodWithResponseAsync(_caller.Client.CreateInvokeMethodRequest(HttpMethod.Get, "doomed", "x"), Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("ERR_DIRECT_INVOKE", error.GetProperty("errorCode").GetString());
        Assert.StartsWith("failed to invoke, id: doomed, err: ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private HttpClient RawClient(string token)
    {
        var http = new HttpClient { BaseAddress = new Uri(_caller.Host.HttpEndpoint) };
        http.DefaultRequestHeaders.Add("dapr-api-token", token);
        return http;
    }

    private static async Task<EchoReply> ReadAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<EchoReply>(new JsonSerializerOptions(JsonSerializerDefaults.Web), Ct)
        ?? throw new InvalidOperationException("empty echo reply");
}
