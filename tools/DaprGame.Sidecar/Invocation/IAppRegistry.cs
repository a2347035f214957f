namespace DaprGame.Sidecar.Invocation;

/// <summary>
/// Where one sidecar instance accepts calls from other sidecars. <see cref="InternalKey"/> is a per-instance secret
/// the caller presents, so the internal route cannot be used to reach an app without going through a sidecar.
/// </summary>
public sealed record AppEndpoint(string AppId, string InstanceId, string Host, int HttpPort, string InternalKey, int ProcessId);

/// <summary>
/// Name resolution between sidecars: daprd uses mDNS in self-hosted mode; the local sidecar uses a registry that
/// every sidecar registers in once its app is ready. Several instances of one app-id are balanced round-robin.
/// </summary>
public interface IAppRegistry
{
    /// <summary>Adds an instance; disposing the result removes it.</summary>
    ValueTask<IAsyncDisposable> RegisterAsync(AppEndpoint endpoint, CancellationToken cancellationToken);

    /// <summary>The next instance of <paramref name="appId"/> in round-robin order, or null when none runs.</summary>
    ValueTask<AppEndpoint?> ResolveAsync(string appId, CancellationToken cancellationToken);
}
