using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DaprGame.Sidecar.Api;
using DaprGame.Sidecar.Hosting;
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
    private const int BuiltInRetries = 3;
    private static readonly TimeSpan BuiltInRetryDelay = TimeSpan.FromSeconds(1);

    private readonly SidecarRuntime _runtime;
    private readonly IAppRegistry _registry;
    private readonly int _httpPort;
    private readonly string _internalKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly HttpMessageInvoker _peers;
    private readonly ILogger _log;
    private IAsyncDisposable? _registration;

    public InvocationFeature(SidecarRuntime runtime, IAppRegistry registry, int httpPort)
    {
        _runtime = runtime;
        _registry = registry;
        _httpPort = httpPort;
        _log = runtime.Logging.CreateLogger("DaprGame.Sidecar.Invocation");
        // Sidecar-to-sidecar hop: pooled keep-alive connections, nothing a browser stack would add.
        _peers = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            MaxConnectionsPerServer = 1024,
        });
        var apps = runtime.Resources.Resiliency.Apps;
        foreach (var (app, policy) in apps)
        {
            if (policy.Retry is not null || policy.CircuitBreaker is not null)
            {
                _log.LogWarning("resiliency for app '{App}': only the timeout is applied to service invocation by the local sidecar; retry and circuit breaker policies for apps are not implemented", app);
            }
        }
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

    private async Task ForwardAsync(HttpContext context, string appId, string methodPathAndQuery)
    {
        var aborted = context.RequestAborted;
        using var timeout = AppTimeout(appId) is { } t ? new CancellationTokenSource(t, _runtime.Time) : null;
        using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(aborted, timeout.Token);
        var ct = linked?.Token ?? aborted;
        var traceparent = ChildTraceparent(context.Request.Headers["traceparent"].ToString());

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
            using var request = new HttpRequestMessage(
                HttpMethod.Parse(context.Request.Method),
                $"http://{target.Host}:{target.HttpPort}{HttpForwarding.InternalPrefix}{methodPathAndQuery}");
            HttpForwarding.CopyRequest(context.Request, request);
            request.Headers.Remove("dapr-caller-app-id");
            request.Headers.Remove("dapr-callee-app-id");
            request.Headers.Remove("traceparent");
            request.Headers.TryAddWithoutValidation("dapr-caller-app-id", _runtime.Options.AppId);
            request.Headers.TryAddWithoutValidation("dapr-callee-app-id", appId);
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
            request.Headers.TryAddWithoutValidation(HttpForwarding.InternalKeyHeader, target.InternalKey);
            try
            {
                using var response = await _peers.SendAsync(request, ct);
                await HttpForwarding.CopyResponseAsync(response, context.Response, ct);
                return;
            }
            catch (HttpRequestException e) when (HttpForwarding.IsConnectFailure(e) && attempt < BuiltInRetries && !context.Response.HasStarted)
            {
                // daprd's built-in service retry: 3 × 1 s when the target sidecar is unavailable. Nothing was sent,
                // so the request body is still unread and the next attempt (maybe another instance) can carry it.
                _log.LogDebug("target sidecar for {AppId} at port {Port} unavailable, retrying: {Error}", appId, target.HttpPort, e.Message);
                await Task.Delay(BuiltInRetryDelay, _runtime.Time, ct);
            }
            catch (HttpRequestException e) when (!context.Response.HasStarted)
            {
                await DirectInvokeErrorAsync(context, appId, e.Message);
                return;
            }
            catch (OperationCanceledException) when (timeout?.IsCancellationRequested == true && !aborted.IsCancellationRequested && !context.Response.HasStarted)
            {
                await DirectInvokeErrorAsync(context, appId, "timeout waiting for the target app (resiliency timeout policy)");
                return;
            }
        }
    }

    private TimeSpan? AppTimeout(string appId)
    {
        var resiliency = _runtime.Resources.Resiliency;
        if (resiliency.Apps.TryGetValue(appId, out var target) && target.Timeout is { } t)
        {
            return t;
        }
        return resiliency.Timeouts.TryGetValue("DefaultAppTimeoutPolicy", out var app) ? app
            : resiliency.Timeouts.TryGetValue("DefaultTimeoutPolicy", out var general) ? general
            : null;
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

    private static Task DirectInvokeErrorAsync(HttpContext context, string appId, string error) =>
        DaprHttp.WriteErrorAsync(context, 500, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {error}");

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
        if (!AccessControl.Allows(_runtime.Resources.Configuration.AccessControl, caller, context.Request.Method, PathOnly(pathAndQuery)))
        {
            await DaprHttp.WriteErrorAsync(context, 403, "ERR_PERMISSION_DENIED",
                $"access control policy has denied access to appid: {caller} operation: {PathOnly(pathAndQuery).TrimStart('/')} verb: {context.Request.Method}");
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
        try
        {
            using var response = await channel.SendAsync(request, cancellationToken);
            await HttpForwarding.CopyResponseAsync(response, context.Response, cancellationToken);
        }
        catch (HttpRequestException e) when (!context.Response.HasStarted)
        {
            await DirectInvokeErrorAsync(context, appId, e.Message);
        }
    }

    private static string PathOnly(string pathAndQuery)
    {
        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? pathAndQuery : pathAndQuery[..q];
    }
}
