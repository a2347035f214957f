using Microsoft.Extensions.Configuration;

namespace DaprGame.Hosting;

/// <summary>
/// Where this app's sidecar listens, read from configuration rather than only from process environment variables,
/// so two services (or two replicas) can run in one test process, each with its own sidecar. Keys are Dapr's:
/// <c>DAPR_HTTP_ENDPOINT</c> or <c>DAPR_HTTP_PORT</c>, <c>DAPR_GRPC_ENDPOINT</c> or <c>DAPR_GRPC_PORT</c>,
/// <c>DAPR_API_TOKEN</c>; defaults are daprd's (3500 and 50001 on 127.0.0.1).
/// </summary>
public sealed record DaprEndpoints(string Http, string Grpc, string? ApiToken)
{
    public static DaprEndpoints From(IConfiguration configuration)
    {
        var http = configuration["DAPR_HTTP_ENDPOINT"] is { Length: > 0 } h ? h
            : "http://127.0.0.1:" + (configuration["DAPR_HTTP_PORT"] is { Length: > 0 } hp ? hp : "3500");
        var grpc = configuration["DAPR_GRPC_ENDPOINT"] is { Length: > 0 } g ? g
            : "http://127.0.0.1:" + (configuration["DAPR_GRPC_PORT"] is { Length: > 0 } gp ? gp : "50001");
        return new DaprEndpoints(http, grpc, configuration["DAPR_API_TOKEN"] is { Length: > 0 } t ? t : null);
    }
}
