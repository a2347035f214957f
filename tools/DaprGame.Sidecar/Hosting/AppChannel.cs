using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Hosting;

/// <summary>
/// The sidecar's connection to its app: waits until the app port accepts connections (daprd polls every 100 ms),
/// then carries every call to the app with <c>dapr-api-token: APP_API_TOKEN</c> when that token is set.
/// </summary>
public sealed class AppChannel : IDisposable
{
    private readonly SidecarOptions _options;
    private readonly ILogger _log;
    private readonly HttpMessageInvoker _http;

    public AppChannel(SidecarOptions options, ILogger log)
    {
        _options = options;
        _log = log;
        BaseAddress = new Uri($"http://{options.AppChannelAddress}:{options.AppPort}");
        // The sidecar's request path: pooled connections, no cookies, no redirects, no proxy (loopback only).
        _http = LoopbackHttp.CreateInvoker();
    }

    public Uri BaseAddress { get; }

    /// <summary>Polls the app port until it accepts a TCP connection.</summary>
    public async Task WaitForAppAsync(CancellationToken cancellationToken)
    {
        var logged = false;
        while (true)
        {
            try
            {
                using var client = new TcpClient(_options.AppChannelAddress.Contains(':', StringComparison.Ordinal) ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork);
                await client.ConnectAsync(_options.AppChannelAddress, _options.AppPort!.Value, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                if (!logged)
                {
                    _log.LogInformation("waiting for the app on {Address}", BaseAddress);
                    logged = true;
                }
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>Builds a request to <paramref name="pathAndQuery"/> on the app (a leading slash is added when missing).</summary>
    public HttpRequestMessage CreateRequest(HttpMethod method, string pathAndQuery)
    {
        var request = new HttpRequestMessage(method, new Uri(BaseAddress, pathAndQuery.StartsWith('/') ? pathAndQuery : "/" + pathAndQuery));
        if (_options.AppApiToken is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation("dapr-api-token", token);
        }
        return request;
    }

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _http.SendAsync(request, cancellationToken);

    public void Dispose() => _http.Dispose();
}
