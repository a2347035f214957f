using System.Globalization;
using System.Security.Cryptography;
using System.Threading.Channels;
using Dapr.Client;
using DaprGame.Contracts;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Realtime;

/// <summary>What a resume token stands for: whose it is and which channels its socket watched.</summary>
public sealed record ResumeRecord(string PlayerId, string SessionId, IReadOnlyList<string> Channels);

/// <summary>
/// Resume tokens in the Dapr state store (<c>statestore</c>, key <c>gateway-resume-{token}</c>), so a client may
/// resume on any replica. Each save sets <c>ttlInSeconds</c> to the grace window; a socket's record is saved when its
/// watch set changes, periodically while it is open, and once more when it closes, so it lives for the grace window
/// after the socket is gone.
/// </summary>
public sealed class ResumeStore(DaprClient dapr, IOptions<RealtimeOptions> options, GatewayRealtimeLog log)
{
    private readonly Channel<PlayerConnection> _dirty = Channel.CreateUnbounded<PlayerConnection>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, string> _ttl = new() { ["ttlInSeconds"] = options.Value.ResumeGrace.ToString(CultureInfo.InvariantCulture) };

    /// <summary>A fresh unguessable token (256 random bits, base64url).</summary>
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string NewConnectionId() => Base64Url(RandomNumberGenerator.GetBytes(12));

    /// <summary>Asks for the socket's record to be saved soon (watch set changed, or a periodic refresh).</summary>
    public void MarkDirty(PlayerConnection connection) => _dirty.Writer.TryWrite(connection);

    public Task SaveAsync(PlayerConnection connection, CancellationToken cancellationToken) =>
        dapr.SaveStateAsync(
            Components.StateStore,
            Key(connection.ResumeToken),
            new ResumeRecord(connection.PlayerId, connection.Player.SessionId, connection.Watching()),
            metadata: _ttl,
            cancellationToken: cancellationToken);

    public async Task<ResumeRecord?> LoadAsync(string token, CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<ResumeRecord?>(Components.StateStore, Key(token), cancellationToken: cancellationToken);

    public Task DeleteAsync(string token, CancellationToken cancellationToken) =>
        dapr.DeleteStateAsync(Components.StateStore, Key(token), cancellationToken: cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var connection in _dirty.Reader.ReadAllAsync(cancellationToken))
            {
                try
                {
                    await SaveAsync(connection, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.ResumeSaveFailed(connection.ConnectionId, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static string Key(string token) => "gateway-resume-" + token;

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
