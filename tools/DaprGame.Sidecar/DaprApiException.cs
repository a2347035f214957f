using System.Net;
using Grpc.Core;

namespace DaprGame.Sidecar;

/// <summary>
/// An error the Dapr API reports to its caller, carrying both daprd's HTTP shape
/// (<c>{"errorCode","message"}</c> with a status) and its gRPC status code, so each API surface maps it once.
/// </summary>
public sealed class DaprApiException : Exception
{
    public DaprApiException(string errorCode, string message, HttpStatusCode httpStatus, StatusCode grpcStatus, Exception? inner = null)
        : base(message, inner)
    {
        ErrorCode = errorCode;
        HttpStatus = httpStatus;
        GrpcStatus = grpcStatus;
    }

    /// <summary>daprd's error code, e.g. <c>ERR_STATE_SAVE</c>.</summary>
    public string ErrorCode { get; }

    public HttpStatusCode HttpStatus { get; }

    public StatusCode GrpcStatus { get; }

    public RpcException ToRpcException() => new(new Status(GrpcStatus, Message));

    public static DaprApiException BadRequest(string code, string message) =>
        new(code, message, HttpStatusCode.BadRequest, StatusCode.InvalidArgument);

    public static DaprApiException Internal(string code, string message, Exception? inner = null) =>
        new(code, message, HttpStatusCode.InternalServerError, StatusCode.Internal, inner);
}
