using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace DaprGame.Gateway.Tests.Auth;

/// <summary>The auth counters on the <c>DaprGame.Gateway</c> meter.</summary>
public sealed class AuthMetricsTests
{
    [Fact]
    public async Task Logins_refusals_and_revocations_are_counted_by_outcome_and_reason()
    {
        await using var cluster = await AuthCluster.StartAsync();
        // Only this gateway's meter: other tests' gateways run in the same process.
        var factory = cluster.Gateways[0].Services.GetRequiredService<IMeterFactory>();
        var seen = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "DaprGame.Gateway" && ReferenceEquals(instrument.Meter.Scope, factory)
                && instrument.Name.StartsWith("daprgame.gateway.auth.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var labels = string.Join(",", tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
            seen.Enqueue($"{instrument.Name["daprgame.gateway.auth.".Length..]}[{labels}]+{value}");
        });
        listener.Start();

        var client = cluster.Client();
        var tokens = await client.RegisterAsync("counted");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/v1/auth/login", new { username = "counted", password = "wrong-password" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.MeAsync("garbage")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(HttpMethod.Post, "/v1/auth/logout", tokens.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.MeAsync(tokens.AccessToken)).StatusCode);

        Assert.Equal(
            [
                "logins[method=register,outcome=ok]+1",
                "logins[method=password,outcome=invalid_credentials]+1",
                "tokens_refused[reason=malformed]+1",
                "sessions_revoked[reason=logout]+1",
                "tokens_refused[reason=revoked]+1",
            ],
            seen.ToArray());
    }
}
