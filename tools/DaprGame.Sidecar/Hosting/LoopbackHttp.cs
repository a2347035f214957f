using System.Diagnostics;

namespace DaprGame.Sidecar.Hosting;

/// <summary>What every loopback HTTP hop of the sidecar shares (to the app, to peer sidecars): one client setup and one liveness check.</summary>
internal static class LoopbackHttp
{
    /// <summary>
    /// A pooled client for the sidecar's request path: keep-alive connections, no cookies, redirects, proxy or
    /// decompression, which a browser-like stack would add and a sidecar must not.
    /// </summary>
    public static HttpMessageInvoker CreateInvoker() => new(new SocketsHttpHandler
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        UseProxy = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        MaxConnectionsPerServer = 1024,
    });

    /// <summary>True while the process that wrote a registry or placement entry still runs.</summary>
    public static bool IsProcessAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
