using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace DaprGame.Sidecar.Invocation;

/// <summary>
/// Header and body pass-through shared by both hops of an invocation (app → caller sidecar → callee sidecar → app).
/// This is the sidecar's request path: bodies are streamed, never buffered, and headers are copied without LINQ.
/// </summary>
internal static class HttpForwarding
{
    /// <summary>Header the caller sidecar presents to prove the call came from a sidecar (see <see cref="AppEndpoint"/>).</summary>
    public const string InternalKeyHeader = "x-daprgame-internal-key";

    /// <summary>The internal route every sidecar serves for its peers on its HTTP port.</summary>
    public const string InternalPrefix = "/_daprgame/internal/invoke";

    public static bool IsHopByHop(string name) =>
        name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("TE", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Trailer", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Proxy-Authenticate", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Host", StringComparison.OrdinalIgnoreCase);

    private static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Expires", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Last-Modified", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Allow", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Copies the incoming request's headers and body onto <paramref name="outgoing"/>, except hop-by-hop headers,
    /// any <c>dapr-api-token</c> (the caller's token never reaches another app) and the internal key.
    /// </summary>
    public static void CopyRequest(HttpRequest incoming, HttpRequestMessage outgoing) =>
        CopyRequest(incoming, outgoing, HasBody(incoming) ? new StreamContent(incoming.Body) : null);

    /// <summary>
    /// As <see cref="CopyRequest(HttpRequest, HttpRequestMessage)"/>, with the body given as <paramref name="content"/>
    /// (a buffered copy when a retry may send it again). By default the request stream is read once, as the outgoing
    /// request is written: no buffering in the sidecar.
    /// </summary>
    public static void CopyRequest(HttpRequest incoming, HttpRequestMessage outgoing, HttpContent? content)
    {
        outgoing.Content = content;
        foreach (var (name, values) in incoming.Headers)
        {
            if (IsHopByHop(name)
                || name.Equals("dapr-api-token", StringComparison.OrdinalIgnoreCase)
                || name.Equals(InternalKeyHeader, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (IsContentHeader(name))
            {
                if (outgoing.Content is { } body)
                {
                    AddTo(body.Headers, name, values);
                }
                continue;
            }
            AddTo(outgoing.Headers, name, values);
        }
    }

    public static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    private static void AddTo(System.Net.Http.Headers.HttpHeaders headers, string name, StringValues values)
    {
        if (values.Count == 1)
        {
            headers.TryAddWithoutValidation(name, values[0]);
        }
        else
        {
            headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
    }

    /// <summary>
    /// Moves a request the caller sidecar built onto the request to the app: its headers (minus hop-by-hop, any
    /// <c>dapr-api-token</c> and the internal key) and its content object.
    /// </summary>
    public static void CopyRequest(HttpRequestMessage incoming, HttpRequestMessage outgoing)
    {
        foreach (var header in incoming.Headers.NonValidated)
        {
            if (IsHopByHop(header.Key)
                || header.Key.Equals("dapr-api-token", StringComparison.OrdinalIgnoreCase)
                || header.Key.Equals(InternalKeyHeader, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            outgoing.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string>)ToStringValues(header.Value));
        }
        outgoing.Content = incoming.Content;
        incoming.Content = null;
    }

    /// <summary>Writes the status, headers and streamed body of <paramref name="response"/> to the caller unchanged.</summary>
    public static async Task CopyResponseAsync(HttpResponseMessage response, HttpResponse outgoing, CancellationToken cancellationToken)
    {
        outgoing.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.NonValidated)
        {
            if (!IsHopByHop(header.Key))
            {
                outgoing.Headers[header.Key] = ToStringValues(header.Value);
            }
        }
        foreach (var header in response.Content.Headers.NonValidated)
        {
            outgoing.Headers[header.Key] = ToStringValues(header.Value);
        }
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await body.CopyToAsync(outgoing.Body, cancellationToken);
    }

    private static StringValues ToStringValues(System.Net.Http.Headers.HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            foreach (var v in values)
            {
                return v;
            }
        }
        var array = new string[values.Count];
        var i = 0;
        foreach (var v in values)
        {
            array[i++] = v;
        }
        return array;
    }

    /// <summary>True when the other side could not be reached at all (nothing was sent, so a retry is safe).</summary>
    public static bool IsConnectFailure(HttpRequestException e) =>
        e.HttpRequestError == HttpRequestError.ConnectionError || e.InnerException is SocketException;
}
