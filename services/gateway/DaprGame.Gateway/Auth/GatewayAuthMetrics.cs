using System.Diagnostics.Metrics;

namespace DaprGame.Gateway.Auth;

/// <summary>The auth side's counters on the gateway's meter.</summary>
internal sealed class GatewayAuthMetrics
{
    public const string MeterName = "DaprGame.Gateway";

    private readonly Counter<long> _logins;
    private readonly Counter<long> _tokensRefused;
    private readonly Counter<long> _sessionsRevoked;

    public GatewayAuthMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _logins = meter.CreateCounter<long>("daprgame.gateway.auth.logins", description: "Sign-in attempts by method and outcome.");
        _tokensRefused = meter.CreateCounter<long>("daprgame.gateway.auth.tokens_refused", description: "Access tokens refused, by reason.");
        _sessionsRevoked = meter.CreateCounter<long>("daprgame.gateway.auth.sessions_revoked", description: "Sessions revoked by this replica, by reason.");
    }

    public void Login(string method, string outcome) =>
        _logins.Add(1, new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("outcome", outcome));

    public void TokenRefused(string reason) => _tokensRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void SessionRevoked(string reason) => _sessionsRevoked.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
