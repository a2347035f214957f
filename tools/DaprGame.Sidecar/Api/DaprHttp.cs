using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DaprGame.Sidecar.Api;

/// <summary>daprd's HTTP conventions: error bodies <c>{"errorCode","message"}</c>, 204 for success without content.</summary>
public static class DaprHttp
{
    public static async Task WriteErrorAsync(HttpContext context, int status, string errorCode, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("errorCode", errorCode);
        writer.WriteString("message", message);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    public static Task WriteErrorAsync(HttpContext context, DaprApiException error) =>
        WriteErrorAsync(context, (int)error.HttpStatus, error.ErrorCode, error.Message);

    /// <summary>Middleware turning a <see cref="DaprApiException"/> thrown by a handler into daprd's error response.</summary>
    public static async Task HandleErrorsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (DaprApiException e) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, e);
        }
        catch (JsonException e) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, 400, "ERR_MALFORMED_REQUEST", $"failed deserializing HTTP body: {e.Message}");
        }
    }

    /// <summary>Request metadata passed as <c>?metadata.key=value</c> query parameters.</summary>
    public static Dictionary<string, string> QueryMetadata(HttpRequest request)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Query)
        {
            if (key.StartsWith("metadata.", StringComparison.OrdinalIgnoreCase))
            {
                result[key["metadata.".Length..]] = value.ToString();
            }
        }
        return result;
    }
}
