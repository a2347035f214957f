using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using DaprGame.Contracts.Players;

namespace DaprGame.Gateway.Tests.Auth;

/// <summary>Refresh rotation, reuse detection, logout and revocation across replicas.</summary>
public sealed class SessionTests
{
    [Fact]
    public async Task Refresh_rotates_and_the_old_refresh_token_stops_working()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var client = cluster.Client();
        var first = await client.RegisterAsync("rotor");

        var second = await AuthClient.ReadTokensAsync(await client.RefreshAsync(first.RefreshToken), "refresh");
        Assert.Equal(first.SessionId, second.SessionId);
        Assert.Equal(first.PlayerId, second.PlayerId);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.NotEqual(first.AccessToken, second.AccessToken);
        Assert.StartsWith(first.SessionId + ".", second.RefreshToken, StringComparison.Ordinal);
        Assert.Equal("Bearer", second.TokenType);
        Assert.Equal(30 * 24 * 3600, second.RefreshExpiresIn);
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(second.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task Reusing_a_rotated_refresh_token_revokes_the_whole_family_and_publishes_the_revocation()
    {
        await using var cluster = await AuthCluster.StartAsync(probe: true);
        var client = cluster.Client();
        var raised = new ConcurrentQueue<(string Player, string Session)>();
        cluster.Hub().Revoked += (p, s) => raised.Enqueue((p, s));

        var first = await client.RegisterAsync("victim");
        var second = await AuthClient.ReadTokensAsync(await client.RefreshAsync(first.RefreshToken), "refresh 1");
        var third = await AuthClient.ReadTokensAsync(await client.RefreshAsync(second.RefreshToken), "refresh 2");
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(third.AccessToken)).StatusCode);

        // The thief replays the first refresh token.
        var reuse = await client.RefreshAsync(first.RefreshToken);
        Assert.Equal(HttpStatusCode.Unauthorized, reuse.StatusCode);
        Assert.Equal("invalid_token", (await AuthClient.ProblemAsync(reuse)).Code);

        // The newest refresh token and every access token of the family are dead.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.RefreshAsync(third.RefreshToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.MeAsync(third.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.MeAsync(first.AccessToken)).StatusCode);
        Assert.Equal([(first.PlayerId, first.SessionId)], raised.ToArray());

        var cloudEvent = await cluster.NextPlayerEventAsync("player.session.revoked.v1 for the reused family");
        Assert.Equal(PlayerSessionRevoked.EventType, cloudEvent.GetProperty("type").GetString());
        var data = cloudEvent.GetProperty("data");
        Assert.Equal(first.PlayerId, data.GetProperty("playerId").GetString());
        Assert.Equal(first.SessionId, data.GetProperty("sessionId").GetString());
        Assert.Equal("refresh_reuse", data.GetProperty("reason").GetString());
        Assert.Equal("player/" + first.PlayerId, data.GetProperty("streamId").GetString());
        Assert.Equal(1, data.GetProperty("sequence").GetInt64());
        Assert.False(string.IsNullOrEmpty(data.GetProperty("id").GetString()));

        // Another session of the same player is untouched.
        var other = await client.LoginAsync("victim");
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(other.AccessToken)).StatusCode);
    }

    [Fact]
    public async Task A_forged_secret_for_a_known_session_is_refused_without_revoking_it()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var client = cluster.Client();
        var tokens = await client.RegisterAsync("sturdy");
        var forged = tokens.SessionId + "." + Convert.ToBase64String(new byte[32]).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        foreach (var bad in new[] { forged, tokens.SessionId + ".short", "s_nope.x", tokens.AccessToken, "" })
        {
            var response = await client.RefreshAsync(bad);
            Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, $"{bad}: {response.StatusCode}");
        }
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(tokens.AccessToken)).StatusCode);
        await AuthClient.ReadTokensAsync(await client.RefreshAsync(tokens.RefreshToken), "the real refresh after forged ones");
    }

    [Fact]
    public async Task Of_concurrent_refreshes_with_one_token_exactly_one_succeeds()
    {
        await using var cluster = await AuthCluster.StartAsync(replicas: 2);
        var clients = new[] { cluster.Client(0), cluster.Client(1) };
        var tokens = await clients[0].RegisterAsync("racer");

        // Losers either lose the ETag race (refused) or read after the winner's write, when their secret is already
        // an old one of the family (reuse: refused and the family revoked). Either way no second pair is issued.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => clients[i % 2].RefreshAsync(tokens.RefreshToken)));
        Assert.Equal(1, attempts.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(7, attempts.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Two_refreshes_in_turn_with_one_token_let_only_the_first_through_and_revoke()
    {
        await using var cluster = await AuthCluster.StartAsync(replicas: 2);
        var tokens = await cluster.Client(0).RegisterAsync("doubler");
        var winner = await AuthClient.ReadTokensAsync(await cluster.Client(0).RefreshAsync(tokens.RefreshToken), "first refresh");
        Assert.Equal(HttpStatusCode.Unauthorized, (await cluster.Client(1).RefreshAsync(tokens.RefreshToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await cluster.Client(0).RefreshAsync(winner.RefreshToken)).StatusCode);
    }

    [Fact]
    public async Task Logout_revokes_the_session_and_publishes_it()
    {
        await using var cluster = await AuthCluster.StartAsync(probe: true);
        var client = cluster.Client();
        var tokens = await client.RegisterAsync("leaver");

        var logout = await client.SendAsync(HttpMethod.Post, "/v1/auth/logout", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.MeAsync(tokens.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.RefreshAsync(tokens.RefreshToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(HttpMethod.Post, "/v1/auth/logout", tokens.AccessToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(HttpMethod.Post, "/v1/auth/logout", null)).StatusCode);

        var cloudEvent = await cluster.NextPlayerEventAsync("player.session.revoked.v1 for the logout");
        Assert.Equal("logout", cloudEvent.GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal(tokens.SessionId, cloudEvent.GetProperty("data").GetProperty("sessionId").GetString());
    }

    [Fact]
    public async Task A_revocation_reaches_every_replica_once()
    {
        await using var cluster = await AuthCluster.StartAsync(replicas: 2);
        var a = cluster.Client(0);
        var b = cluster.Client(1);
        var seenA = new Seen();
        var seenB = new Seen();
        cluster.Hub(0).Revoked += (_, s) => seenA.Add(s);
        cluster.Hub(1).Revoked += (_, s) => seenB.Add(s);

        var s1 = await a.RegisterAsync("alpha");
        var s1Next = await AuthClient.ReadTokensAsync(await a.RefreshAsync(s1.RefreshToken), "refresh");
        Assert.Equal(HttpStatusCode.OK, (await b.MeAsync(s1Next.AccessToken)).StatusCode);
        var s2 = await b.RegisterAsync("bravo");
        var s3 = await a.RegisterAsync("charlie");

        Assert.Equal(HttpStatusCode.Unauthorized, (await a.RefreshAsync(s1.RefreshToken)).StatusCode); // reuse on A
        Assert.Equal(HttpStatusCode.NoContent, (await b.SendAsync(HttpMethod.Post, "/v1/auth/logout", s2.AccessToken)).StatusCode);
        await seenA.WaitForAsync(s2.SessionId, "replica A learning of B's logout");
        await seenB.WaitForAsync(s1.SessionId, "replica B learning of A's refresh reuse");
        // B had found S1 live a moment ago; the event must beat its session cache.
        Assert.Equal(HttpStatusCode.Unauthorized, (await b.MeAsync(s1Next.AccessToken)).StatusCode);

        // Deliveries are in order per replica: once each has seen a later revocation from the other replica, it has
        // also processed the echo of its own earlier one, which must not have raised the hub a second time.
        Assert.Equal(HttpStatusCode.NoContent, (await a.SendAsync(HttpMethod.Post, "/v1/auth/logout", s3.AccessToken)).StatusCode);
        await seenB.WaitForAsync(s3.SessionId, "replica B learning of A's second logout");
        Assert.Equal(1, seenA.Count(s1.SessionId));
        Assert.Equal(1, seenA.Count(s2.SessionId));
        Assert.Equal(1, seenB.Count(s1.SessionId));
        Assert.Equal(1, seenB.Count(s2.SessionId));
        Assert.Equal(1, seenB.Count(s3.SessionId));
    }

    [Fact]
    public async Task A_forged_revocation_event_posted_to_the_app_does_not_revoke()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var client = cluster.Client();
        var tokens = await client.RegisterAsync("target");
        var forged = new
        {
            id = "x",
            occurredAt = AuthCluster.Start,
            streamId = "player/" + tokens.PlayerId,
            sequence = 1,
            playerId = tokens.PlayerId,
            sessionId = tokens.SessionId,
            reason = "admin",
        };
        var response = await client.PostAsync("/internal/events/player", forged);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.MeAsync(tokens.AccessToken)).StatusCode);
    }

    private sealed class Seen
    {
        private readonly ConcurrentDictionary<string, int> _counts = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new();

        public void Add(string sessionId)
        {
            _counts.AddOrUpdate(sessionId, 1, (_, n) => n + 1);
            Waiter(sessionId).TrySetResult();
        }

        public int Count(string sessionId) => _counts.GetValueOrDefault(sessionId);

        public async Task WaitForAsync(string sessionId, string what)
        {
            try
            {
                await Waiter(sessionId).Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"Stalled: {what} (session {sessionId}) not seen within 30 s.");
            }
        }

        private TaskCompletionSource Waiter(string sessionId) =>
            _waiters.GetOrAdd(sessionId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
