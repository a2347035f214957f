using Microsoft.AspNetCore.Routing;

namespace DaprGame.Sidecar.Hosting;

/// <summary>
/// One area of the Dapr API (state, pub/sub, invocation, actors…): its HTTP routes, its gRPC methods, and what it
/// does once the app is reachable. The host composes features; each lives in its own folder.
/// </summary>
public interface ISidecarFeature : IAsyncDisposable
{
    /// <summary>Maps HTTP routes on the Dapr HTTP port.</summary>
    void MapHttp(IEndpointRouteBuilder routes);

    /// <summary>Adds gRPC methods of <c>dapr.proto.runtime.v1.Dapr</c>.</summary>
    void MapGrpc(GrpcMethodTable methods);

    /// <summary>Runs once the app port accepts connections, in feature order, before the sidecar reports ready.</summary>
    Task OnAppReadyAsync(CancellationToken cancellationToken);
}
