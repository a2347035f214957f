using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DaprGame.Sidecar.Api;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Resiliency;
using DaprGame.Sidecar.Tracing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Invocation;

/// <summary>
/// HTTP service invocation as daprd does it: the app calls <c>/v1.0/invoke/{appId}/method/{method}</c> (any verb) or
/// any path with header <c>dapr-app-id</c>; this sidecar resolves the target through the <see cref="IAppRegistry"/>
/// and forwards to the target's sidecar, which calls its own app through its <see cref="AppChannel"/>. Method, path,
/// query, headers and body go through unchanged, as do the app's status, headers and body.
/// gRPC <c>InvokeService</c> (deprecated) is left unbound, so it answers Unimplemented.
/// </summary>
public sealed class InvocationFeature : ISidecarFeature, IInProcessInvocationTarget
{
    private const string InvokePrefix = "/v1.0/invoke/";

    /// <summary>Bodies up to this size are kept in memory when a retry policy may need to send them again.</summary>
    private const int MaxReplayableBody = 1024 * 1024;

    private readonly SidecarRuntime _runtime;
    private readonly IAppRegistry _registry;
    private readonly int _httpPort;
    private readonly string _internalKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly HttpMessageInvoker _peers;
    private readonly ILogger _log;
    private readonly RetryPolicy _builtInRetries;
    private IAsyncDisposable? _registration;

    public InvocationFeature(SidecarRuntime runtime, IAppRegistry registry, int httpPort)
    {
        _runtime = runtime;
        _registry = registry;
        _httpPort = httpPort;
        _log = runtime.Logging.CreateLogger("DaprGame.Sidecar.Invocation");
        _builtInRetries = runtime.Resiliency.BuiltIn(RetryPolicy.BuiltInServiceRetries);
        // Sidecar-to-sidecar hop: pooled keep-alive connections, nothing a browser stack would add.
        _peers = LoopbackHttp.CreateInvoker();
    }

    public void MapHttp(IEndpointRouteBuilder routes)
    {
        routes.Map("/v1.0/invoke/{**rest}", InvokeByPathAsync);
        routes.Map(HttpForwarding.InternalPrefix + "/{**method}", ServePeerAsync);
        // Lowest precedence: any path no other API claims is an invocation when it carries dapr-app-id.
        routes.Map("/{**path}", InvokeByHeaderAsync);
    }

    public void MapGrpc(GrpcMethodTable methods)
    {
    }

    public async Task OnAppReadyAsync(CancellationToken cancellationToken)
    {
        var o = _runtime.Options;
        _registration = await _registry.RegisterAsync(
            new AppEndpoint(o.AppId, o.InstanceId, "127.0.0.1", _httpPort, _internalKey, Environment.ProcessId) { InProcess = this }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_registration is { } r)
        {
            await r.DisposeAsync();
        }
        _peers.Dispose();
    }

    // ---- caller side ----

    private Task InvokeByPathAsync(HttpContext context)
    {
        // The raw target keeps the app's own percent-encoding of the method and query.
        var raw = RawTarget(context).AsSpan(InvokePrefix.Length);
        var slash = raw.IndexOf('/');
        const string methodMarker = "/method";
        if (slash <= 0 || !raw[slash..].StartsWith(methodMarker, StringComparison.Ordinal)
            || (raw.Length > slash + methodMarker.Length && raw[slash + methodMarker.Length] is not ('/' or '?')))
        {
            return DaprHttp.WriteErrorAsync(context, 404, "ERR_DIRECT_INVOKE", "failed getting app id either from the URL path or the header dapr-app-id");
        }
        var appId = Uri.UnescapeDataString(raw[..slash].ToString());
        var method = raw[(slash + methodMarker.Length)..];
        return ForwardAsync(context, appId, method.Length == 0 || method[0] != '/' ? "/" + method.ToString() : method.ToString());
    }

    private Task InvokeByHeaderAsync(HttpContext context)
    {
        var appId = context.Request.Headers["dapr-app-id"].ToString();
        if (appId.Length == 0)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        return ForwardAsync(context, appId, RawTarget(context));
    }

    private static string RawTarget(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/'
            ? raw
            : context.Request.Path + context.Request.QueryString;

    /// <summary>Not async itself: without tracing the call goes straight on, adding no state machine to the hot path.</summary>
    private Task ForwardAsync(HttpContext context, string appId, string methodPathAndQuery)
    {
        var incoming = context.Request.Headers["traceparent"].ToString();
        return _runtime.Tracer is { } tracer
            ? ForwardTracedAsync(context, appId, methodPathAndQuery, incoming, tracer)
            : ForwardUntracedAsync(context, appId, methodPathAndQuery, ChildTraceparent(incoming));
    }

    private async Task ForwardTracedAsync(HttpContext context, string appId, string methodPathAndQuery, string incoming, SidecarTracer tracer)
    {
        var span = tracer.Start($"/v1.0/invoke/{appId}/method{PathOnly(methodPathAndQuery)}", ActivityKind.Client, incoming);
        span?.SetTag("dapr.api", "invoke");
        span?.SetTag("rpc.service", "ServiceInvocation");
        span?.SetTag("net.peer.name", appId);
        try
        {
            await ForwardUntracedAsync(context, appId, methodPathAndQuery, span is null ? ChildTraceparent(incoming) : SidecarTracer.TraceparentOf(span));
        }
        finally
        {
            SidecarTracer.Stop(span, context.Response.StatusCode);
        }
    }

    // daprd keys an app's circuit breakers by "{appId}:{method}" (the method path without its query).
    private Task ForwardUntracedAsync(HttpContext context, string appId, string methodPathAndQuery, string traceparent) =>
        _runtime.Resiliency.ForApp(appId) is { } policies
            ? ForwardWithPoliciesAsync(context, appId, methodPathAndQuery, traceparent, policies.ForEndpoint(PathOnly(methodPathAndQuery).TrimStart('/')))
            : ForwardDirectAsync(context, appId, methodPathAndQuery, traceparent);

    /// <summary>No policy for the target: the hot path. The body streams through; only daprd's built-in retries apply.</summary>
    private async Task ForwardDirectAsync(HttpContext context, string appId, string methodPathAndQuery, string traceparent)
    {
        var ct = context.RequestAborted;
        for (var attempt = 0; ; attempt++)
        {
            var target = await _registry.ResolveAsync(appId, ct);
            if (target is null)
            {
                await DirectInvokeErrorAsync(context, appId, $"couldn't find service: {appId}");
                return;
            }
            if (target.InProcess is { } local)
            {
                // Measured (bench sidecar): skipping the loopback hop between two sidecars of one process is the
                // difference between ~0.3 and ~0.5 of direct throughput.
                await local.ServeAsync(context, _runtime.Options.AppId, methodPathAndQuery, traceparent, ct);
                return;
            }
            using var request = PeerRequest(context, appId, target, methodPathAndQuery, traceparent,
                HttpForwarding.HasBody(context.Request) ? new StreamContent(context.Request.Body) : null);
            try
            {
                using var response = await _peers.SendAsync(request, ct);
                await HttpForwarding.CopyResponseAsync(response, context.Response, ct);
                return;
            }
            catch (HttpRequestException e) when (HttpForwarding.IsConnectFailure(e) && _builtInRetries.Allows(attempt) && !context.Response.HasStarted)
            {
                // daprd's built-in service retry (3 × 1 s unless overridden) when the target sidecar is unavailable. Nothing was sent,
                // so the request body is still unread and the next attempt (maybe another instance) can carry it.
                _log.LogDebug("target sidecar for {AppId} at port {Port} unavailable, retrying: {Error}", appId, target.HttpPort, e.Message);
                await Task.Delay(_builtInRetries.DelayFor(attempt + 1), _runtime.Time, ct);
            }
            catch (HttpRequestException e) when (!context.Response.HasStarted)
            {
                await DirectInvokeErrorAsync(context, appId, e.Message);
                return;
            }
        }
    }

    /// <summary>
    /// The target has resiliency policies: each attempt runs under the executor (timeout, circuit breaker, retry).
    /// A retry needs the body again, so a body up to <see cref="MaxReplayableBody"/> is buffered when the policy
    /// retries; a larger one streams and gets a single attempt. 5xx answers and transport errors are failures
    /// (retried unless <c>matching.httpStatusCodes</c> says otherwise); other statuses are answers, passed through.
    /// The app's last answer is passed through even when the retries are spent, as daprd does.
    /// </summary>
    private async Task ForwardWithPoliciesAsync(HttpContext context, string appId, string methodPathAndQuery, string traceparent, ResiliencyExecutor policies)
    {
        var aborted = context.RequestAborted;
        byte[]? body = null;
        Stream? stream = null;
        if (HttpForwarding.HasBody(context.Request))
        {
            if (policies.HasRetries)
            {
                (body, stream) = await BufferBodyAsync(context.Request, aborted);
            }
            else
            {
                stream = context.Request.Body;
            }
        }
        var replayable = stream is null;
        var retry = policies.Policies.Retry;
        HttpResponseMessage response;
        try
        {
            response = await policies.ExecuteAsync(
                ct => SendOnceAsync(context, appId, methodPathAndQuery, traceparent, body, stream, builtInRetries: !policies.HasRetries, ct),
                r => Classify((int)r.StatusCode, retry),
                discard: static r => r.Dispose(),
                isRetriable: static e => e is HttpRequestException or IOException or InvocationTargetNotFoundException,
                allowRetries: replayable,
                cancellationToken: aborted);
        }
        catch (Exception e) when (!aborted.IsCancellationRequested && !context.Response.HasStarted
            && e is HttpRequestException or IOException or InvocationTargetNotFoundException or TimeoutException or CircuitBreakerOpenException)
        {
            await DirectInvokeErrorAsync(context, appId, e is TimeoutException ? "timeout waiting for the target app (resiliency timeout policy)" : e.Message);
            return;
        }
        using (response)
        {
            await HttpForwarding.CopyResponseAsync(response, context.Response, aborted);
        }
    }

    /// <summary>What an invocation answer means to the resiliency policy.</summary>
    internal static AttemptVerdict Classify(int status, RetryPolicy? retry)
    {
        if (retry?.HttpStatusCodes is { } matching)
        {
            return matching.Contains(status) ? AttemptVerdict.RetriableFailure
                : status >= 500 ? AttemptVerdict.Failure
                : AttemptVerdict.Success;
        }
        return status >= 500 ? AttemptVerdict.RetriableFailure : AttemptVerdict.Success;
    }

    /// <summary>
    /// Reads the body into memory when it fits in <see cref="MaxReplayableBody"/>. A larger body comes back as a
    /// stream of what was read followed by the rest, and the call gets a single attempt.
    /// </summary>
    private static async Task<(byte[]? Body, Stream? Stream)> BufferBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxReplayableBody)
        {
            return (null, request.Body);
        }
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            var read = await request.Body.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                return (buffer.ToArray(), null);
            }
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxReplayableBody)
            {
                buffer.Position = 0;
                return (null, new PrefixedStream(buffer, request.Body));
            }
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(
        HttpContext context, string appId, string methodPathAndQuery, string traceparent, byte[]? body, Stream? stream, bool builtInRetries, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var target = await _registry.ResolveAsync(appId, ct) ?? throw new InvocationTargetNotFoundException($"couldn't find service: {appId}");
            HttpContent? content = body is not null ? new ByteArrayContent(body) : stream is not null ? new StreamContent(stream) : null;
            var request = PeerRequest(context, appId, target, methodPathAndQuery, traceparent, content);
            if (target.InProcess is { } local)
            {
                return await local.SendAsync(request, _runtime.Options.AppId, methodPathAndQuery, ct);
            }
            try
            {
                return await _peers.SendAsync(request, ct);
            }
            catch (HttpRequestException e) when (builtInRetries && HttpForwarding.IsConnectFailure(e) && _builtInRetries.Allows(attempt))
            {
                _log.LogDebug("target sidecar for {AppId} at port {Port} unavailable, retrying: {Error}", appId, target.HttpPort, e.Message);
                await Task.Delay(_builtInRetries.DelayFor(attempt + 1), _runtime.Time, ct);
            }
        }
    }

    /// <summary>The request to the target's sidecar: the app's request with Dapr's caller/callee headers and the peer key.</summary>
    private HttpRequestMessage PeerRequest(HttpContext context, string appId, AppEndpoint target, string methodPathAndQuery, string traceparent, HttpContent? content)
    {
        var request = new HttpRequestMessage(
            HttpMethod.Parse(context.Request.Method),
            $"http://{target.Host}:{target.HttpPort}{HttpForwarding.InternalPrefix}{methodPathAndQuery}");
        HttpForwarding.CopyRequest(context.Request, request, content);
        request.Headers.Remove("dapr-caller-app-id");
        request.Headers.Remove("dapr-callee-app-id");
        request.Headers.Remove("traceparent");
        request.Headers.TryAddWithoutValidation("dapr-caller-app-id", _runtime.Options.AppId);
        request.Headers.TryAddWithoutValidation("dapr-callee-app-id", appId);
        request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        request.Headers.TryAddWithoutValidation(HttpForwarding.InternalKeyHeader, target.InternalKey);
        return request;
    }

    /// <summary>The caller sidecar starts a span: same trace as the app's <c>traceparent</c>, a new span id; a new trace when none came.</summary>
    private static string ChildTraceparent(string incoming)
    {
        var span = ActivitySpanId.CreateRandom().ToHexString();
        if (incoming.Length == 55 && incoming[2] == '-' && incoming[35] == '-' && incoming[52] == '-')
        {
            return string.Concat(incoming.AsSpan(0, 36), span, incoming.AsSpan(52));
        }
        return $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{span}-01";
    }

    private static Task DirectInvokeErrorAsync(HttpContext context, string appId, string error, int status = 500) =>
        DaprHttp.WriteErrorAsync(context, status, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {error}");

    // ---- callee side ----

    private async Task ServePeerAsync(HttpContext context)
    {
        var key = context.Request.Headers[HttpForwarding.InternalKeyHeader].ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(key), Encoding.ASCII.GetBytes(_internalKey)))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        var pathAndQuery = RawTarget(context)[HttpForwarding.InternalPrefix.Length..];
        if (pathAndQuery.Length == 0 || pathAndQuery[0] != '/')
        {
            pathAndQuery = "/" + pathAndQuery;
        }
        var caller = context.Request.Headers["dapr-caller-app-id"].ToString();
        await ServeAppAsync(context, caller, pathAndQuery, decorate: null, context.RequestAborted);
    }

    /// <inheritdoc />
    public Task ServeAsync(HttpContext context, string callerAppId, string pathAndQuery, string traceparent, CancellationToken cancellationToken) =>
        ServeAppAsync(context, callerAppId, pathAndQuery, request =>
        {
            request.Headers.Remove("dapr-caller-app-id");
            request.Headers.Remove("dapr-callee-app-id");
            request.Headers.Remove("traceparent");
            request.Headers.TryAddWithoutValidation("dapr-caller-app-id", callerAppId);
            request.Headers.TryAddWithoutValidation("dapr-callee-app-id", _runtime.Options.AppId);
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        }, cancellationToken);

    /// <summary>The callee's half: access control, then the app through the app channel, the answer copied back.</summary>
    private async Task ServeAppAsync(HttpContext context, string caller, string pathAndQuery, Action<HttpRequestMessage>? decorate, CancellationToken cancellationToken)
    {
        var appId = _runtime.Options.AppId;
        if (Denied(caller, context.Request.Method, pathAndQuery) is { } denied)
        {
            await DirectInvokeErrorAsync(context, appId, denied, StatusCodes.Status403Forbidden);
            return;
        }
        if (_runtime.AppChannel is not { } channel)
        {
            await DirectInvokeErrorAsync(context, appId, "app channel not initialized (the sidecar has no --app-port)");
            return;
        }
        // The channel adds APP_API_TOKEN; CopyRequest drops any incoming dapr-api-token, so the app sees only that one.
        using var request = channel.CreateRequest(HttpMethod.Parse(context.Request.Method), pathAndQuery);
        HttpForwarding.CopyRequest(context.Request, request);
        decorate?.Invoke(request);
        var span = StartCalleeSpan(request, caller, pathAndQuery);
        try
        {
            using var response = await channel.SendAsync(request, cancellationToken);
            await HttpForwarding.CopyResponseAsync(response, context.Response, cancellationToken);
        }
        catch (HttpRequestException e) when (!context.Response.HasStarted)
        {
            await DirectInvokeErrorAsync(context, appId, e.Message);
        }
        finally
        {
            SidecarTracer.Stop(span, context.Response.StatusCode);
        }
    }

    /// <inheritdoc />
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string callerAppId, string pathAndQuery, CancellationToken cancellationToken)
    {
        var appId = _runtime.Options.AppId;
        if (Denied(callerAppId, request.Method.Method, pathAndQuery) is { } denied)
        {
            return DirectInvokeError(appId, denied, 403);
        }
        if (_runtime.AppChannel is not { } channel)
        {
            return DirectInvokeError(appId, "app channel not initialized (the sidecar has no --app-port)", 500);
        }
        var toApp = channel.CreateRequest(request.Method, pathAndQuery);
        HttpForwarding.CopyRequest(request, toApp);
        var span = StartCalleeSpan(toApp, callerAppId, pathAndQuery);
        int? status = null;
        try
        {
            var response = await channel.SendAsync(toApp, cancellationToken);
            status = (int)response.StatusCode;
            return response;
        }
        catch (HttpRequestException e)
        {
            status = 500;
            return DirectInvokeError(appId, e.Message, 500);
        }
        finally
        {
            SidecarTracer.Stop(span, status);
        }
    }

    /// <summary>The callee sidecar's span; the app then sees it as the parent in <c>traceparent</c>.</summary>
    private Activity? StartCalleeSpan(HttpRequestMessage toApp, string caller, string pathAndQuery)
    {
        if (_runtime.Tracer is not { } tracer)
        {
            return null;
        }
        var incoming = toApp.Headers.TryGetValues("traceparent", out var values) ? values.FirstOrDefault() : null;
        var span = tracer.Start($"CallLocal/{_runtime.Options.AppId}{PathOnly(pathAndQuery)}", ActivityKind.Server, incoming);
        if (span is not null)
        {
            span.SetTag("dapr.api", "invoke");
            span.SetTag("dapr.caller", caller);
            toApp.Headers.Remove("traceparent");
            toApp.Headers.TryAddWithoutValidation("traceparent", SidecarTracer.TraceparentOf(span));
        }
        return span;
    }

    /// <summary>
    /// The callee-side ACL check. Null when allowed; otherwise daprd's PermissionDenied text, which the caller's
    /// daprd reports as 403 with <c>ERR_DIRECT_INVOKE</c>.
    /// </summary>
    private string? Denied(string caller, string verb, string pathAndQuery)
    {
        var path = PathOnly(pathAndQuery);
        var acl = _runtime.Resources.Configuration.AccessControl;
        if (acl is null || AccessControl.Allows(acl, caller, verb, path))
        {
            return null;
        }
        return $"access control policy has denied access to id: spiffe://{acl.TrustDomain}/ns/{AccessControl.Namespace}/{caller} operation: {path.TrimStart('/')} verb: {verb}";
    }

    private static HttpResponseMessage DirectInvokeError(string appId, string error, int status)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["errorCode"] = "ERR_DIRECT_INVOKE",
            ["message"] = $"failed to invoke, id: {appId}, err: {error}",
        });
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage((System.Net.HttpStatusCode)status) { Content = content };
    }

    private static string PathOnly(string pathAndQuery)
    {
        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? pathAndQuery : pathAndQuery[..q];
    }
}

/// <summary>No instance of the target app-id is registered (daprd: name resolution found nothing).</summary>
internal sealed class InvocationTargetNotFoundException(string message) : Exception(message);
