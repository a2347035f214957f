using Grpc.Core;
using Grpc.Core.Interceptors;

namespace DaprGame.Sidecar.Api;

/// <summary>Maps <see cref="DaprApiException"/> to the gRPC status daprd uses, and enforces the Dapr API token on every method.</summary>
internal sealed class DaprGrpcInterceptor(SidecarOptions options, Hosting.SidecarRuntime runtime) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (options.ApiToken is { Length: > 0 } expected)
        {
            var token = context.RequestHeaders.GetValue("dapr-api-token");
            if (token is null)
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "missing api token in request metadata"));
            }
            if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(expected)))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "authentication error: api token mismatch"));
            }
        }
        // The state API's server span (tracing on only); other APIs record their own.
        var span = runtime.Tracer is { } tracer && Tracing.ApiSpans.IsTracedGrpc(context.Method)
            ? tracer.Start(context.Method, System.Diagnostics.ActivityKind.Server, context.RequestHeaders.GetValue("traceparent"))
            : null;
        try
        {
            var response = await continuation(request, context);
            Tracing.SidecarTracer.Stop(span);
            return response;
        }
        catch (DaprApiException e)
        {
            Tracing.SidecarTracer.Stop(span, error: e.Message);
            throw e.ToRpcException();
        }
        catch (Exception e) when (span is not null)
        {
            Tracing.SidecarTracer.Stop(span, error: e.Message);
            throw;
        }
    }
}
