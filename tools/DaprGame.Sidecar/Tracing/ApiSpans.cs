using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace DaprGame.Sidecar.Tracing;

/// <summary>
/// Server spans for Dapr API calls that have no span of their own elsewhere: the state API, on both surfaces. Named as
/// daprd names them: the gRPC method (<c>/dapr.proto.runtime.v1.Dapr/GetState</c>) or the HTTP verb and route.
/// Invocation and publish record richer spans in their features. Installed only when tracing is on.
/// </summary>
internal static class ApiSpans
{
    /// <summary>True for the gRPC methods and HTTP paths this class traces.</summary>
    public static bool IsTracedGrpc(string method) => method.Contains("State", StringComparison.Ordinal);

    public static bool IsTracedHttp(PathString path) => path.StartsWithSegments("/v1.0/state", StringComparison.Ordinal);

    /// <summary>HTTP middleware: one span around each traced call, a child of its <c>traceparent</c>.</summary>
    public static async Task HttpAsync(HttpContext context, RequestDelegate next, SidecarTracer tracer)
    {
        if (!IsTracedHttp(context.Request.Path))
        {
            await next(context);
            return;
        }
        var span = tracer.Start($"{context.Request.Method} {context.Request.Path}", ActivityKind.Server, context.Request.Headers["traceparent"].ToString());
        span?.SetTag("dapr.api", "state");
        try
        {
            await next(context);
        }
        catch (Exception e)
        {
            SidecarTracer.Stop(span, 500, e.Message);
            throw;
        }
        SidecarTracer.Stop(span, context.Response.StatusCode);
    }
}
