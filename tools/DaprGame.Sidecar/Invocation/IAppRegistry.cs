using Microsoft.AspNetCore.Http;

namespace DaprGame.Sidecar.Invocation;

/// <summary>
/// Where one sidecar instance accepts calls from other sidecars. <see cref="InternalKey"/> is a per-instance secret
/// the caller presents, so the internal route cannot be used to reach an app without going through a sidecar.
/// </summary>
public sealed record AppEndpoint(string AppId, string InstanceId, string Host, int HttpPort, string InternalKey, int ProcessId)
{
    /// <summary>
    /// Set when the instance's sidecar runs in this process (tests, the multi-app launcher): the caller hands the
    /// request to it directly instead of over a loopback HTTP hop. The callee applies the same access control and
    /// headers either way; only the transport between the two sidecars differs, as daprd's own internal gRPC does.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IInProcessInvocationTarget? InProcess { get; init; }
}

/// <summary>A sidecar in this process that serves invocations for its app without a network hop between sidecars.</summary>
public interface IInProcessInvocationTarget
{
    /// <summary>Serves <paramref name="context"/>'s request for <paramref name="callerAppId"/> as the peer route would, writing the app's answer to its response.</summary>
    Task ServeAsync(HttpContext context, string callerAppId, string pathAndQuery, string traceparent, CancellationToken cancellationToken);

    /// <summary>
    /// Serves a request the caller sidecar built (its body replayable when a retry policy may send it again) and
    /// returns the app's answer, or the callee's own error answer, unread, for the caller's resiliency policy to judge.
    /// </summary>
    Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string callerAppId, string pathAndQuery, CancellationToken cancellationToken);
}

/// <summary>
/// Name resolution between sidecars: daprd uses mDNS in self-hosted mode; the local sidecar uses a registry that
/// every sidecar registers in once its app is ready. Several instances of one app-id are balanced round-robin.
/// </summary>
public interface IAppRegistry
{
    /// <summary>Adds an instance; disposing the result removes it.</summary>
    ValueTask<IAsyncDisposable> RegisterAsync(AppEndpoint endpoint, CancellationToken cancellationToken);

    /// <summary>Actor placement among the sidecars this registry connects (daprd's Placement service).</summary>
    Actors.IActorPlacement ActorPlacement { get; }

    /// <summary>The next instance of <paramref name="appId"/> in round-robin order, or null when none runs.</summary>
    ValueTask<AppEndpoint?> ResolveAsync(string appId, CancellationToken cancellationToken);
}
