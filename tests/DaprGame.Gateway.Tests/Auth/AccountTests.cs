using System.Net;
using System.Text.RegularExpressions;

namespace DaprGame.Gateway.Tests.Auth;

/// <summary>Guests, registration, login, login throttling and the admin role.</summary>
public sealed partial class AccountTests
{
    [GeneratedRegex("^p_[a-z2-7]{16}$")]
    private static partial Regex PlayerIdShape();

    [Fact]
    public async Task A_guest_device_gets_the_same_player_every_time()
    {
        await using var cluster = await AuthCluster.StartAsync(replicas: 2);
        var first = await cluster.Client(0).GuestAsync("device-0001-abcdef");
        var again = await cluster.Client(1).GuestAsync("device-0001-abcdef");
        var other = await cluster.Client(0).GuestAsync("device-0002-abcdef");

        Assert.Matches(PlayerIdShape(), first.PlayerId);
        Assert.Equal(first.PlayerId, again.PlayerId);
        Assert.NotEqual(first.SessionId, again.SessionId);
        Assert.NotEqual(first.PlayerId, other.PlayerId);

        // Concurrent first sign-ins of one new device agree on one player.
        var racing = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => cluster.Client(i % 2).GuestAsync("device-0003-abcdef")));
        Assert.Single(racing.Select(r => r.PlayerId).Distinct());

        var bad = await cluster.Client().PostAsync("/v1/auth/guest", new { deviceId = "short" });
        Assert.Equal((400, "invalid"), Pick(await AuthClient.ProblemAsync(bad)));
    }

    [Fact]
    public async Task A_username_is_registered_once_ignoring_case()
    {
        await using var cluster = await AuthCluster.StartAsync(replicas: 2);
        var client = cluster.Client();
        var alice = await client.RegisterAsync("Alice", displayName: "Queen Alice");
        Assert.Equal("Queen Alice", alice.DisplayName);
        Assert.Matches(PlayerIdShape(), alice.PlayerId);

        var duplicate = await client.PostAsync("/v1/auth/register", new { username = "alice", password = "another-pass" });
        Assert.Equal((409, "conflict"), Pick(await AuthClient.ProblemAsync(duplicate)));
        Assert.Equal(alice.PlayerId, (await client.LoginAsync("ALICE")).PlayerId);

        var racing = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            cluster.Client(i % 2).PostAsync("/v1/auth/register", new { username = "bob_" + (i % 2 == 0 ? "X" : "x"), password = "password-" + i })));
        Assert.Equal(1, racing.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(7, racing.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Theory]
    [InlineData("ab", "long-enough")]
    [InlineData("this_name_is_far_too_long_", "long-enough")]
    [InlineData("bad-dash", "long-enough")]
    [InlineData("héllo", "long-enough")]
    [InlineData("fine_name", "short")]
    [InlineData(null, "long-enough")]
    [InlineData("fine_name", null)]
    public async Task Registration_input_is_validated(string? username, string? password)
    {
        await using var cluster = await AuthCluster.StartAsync();
        var response = await cluster.Client().PostAsync("/v1/auth/register", new { username, password });
        Assert.Equal((400, "invalid"), Pick(await AuthClient.ProblemAsync(response)));
    }

    [Fact]
    public async Task Oversized_passwords_and_unreadable_bodies_are_refused()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var client = cluster.Client();
        var tooLong = await client.PostAsync("/v1/auth/register", new { username = "longpass", password = new string('p', 129) });
        Assert.Equal((400, "invalid"), Pick(await AuthClient.ProblemAsync(tooLong)));
        await client.RegisterAsync("longpass", new string('p', 128));

        using var junk = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        var unreadable = await client.Http.PostAsync("/v1/auth/login", junk, TestContext.Current.CancellationToken);
        Assert.Equal((400, "invalid"), Pick(await AuthClient.ProblemAsync(unreadable)));

        var huge = await client.PostAsync("/v1/auth/login", new { username = "longpass", password = new string('p', 20_000) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);

        var badName = await client.PostAsync("/v1/auth/guest", new { deviceId = "device-0001-abcdef", displayName = "evil\u202Eoverride" });
        Assert.Equal((400, "invalid"), Pick(await AuthClient.ProblemAsync(badName)));
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_get_the_same_answer()
    {
        await using var cluster = await AuthCluster.StartAsync();
        var client = cluster.Client();
        await client.RegisterAsync("known_user");

        var wrong = await AuthClient.ProblemAsync(await client.PostAsync("/v1/auth/login", new { username = "known_user", password = "wrong-password" }));
        var unknown = await AuthClient.ProblemAsync(await client.PostAsync("/v1/auth/login", new { username = "nobody_here", password = "wrong-password" }));
        var malformed = await AuthClient.ProblemAsync(await client.PostAsync("/v1/auth/login", new { username = "no such user!", password = "wrong-password" }));

        foreach (var answer in new[] { wrong, unknown, malformed })
        {
            Assert.Equal((401, "invalid_credentials"), Pick(answer));
            Assert.Equal(wrong.Body.GetProperty("title").GetString(), answer.Body.GetProperty("title").GetString());
            Assert.Equal(wrong.Body.GetProperty("detail").GetString(), answer.Body.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task Logins_are_throttled_after_the_limit_and_recover_after_the_window()
    {
        await using var cluster = await AuthCluster.StartAsync(replicas: 2);
        await cluster.Client().RegisterAsync("bruteme");

        // Failures on either replica count together.
        for (var i = 0; i < 5; i++)
        {
            var failed = await cluster.Client(i % 2).PostAsync("/v1/auth/login", new { username = "BruteMe", password = "guess-" + i });
            Assert.Equal((401, "invalid_credentials"), Pick(await AuthClient.ProblemAsync(failed)));
        }
        var throttled = await cluster.Client(1).PostAsync("/v1/auth/login", new { username = "bruteme", password = "correct-horse" });
        Assert.Equal((429, "throttled"), Pick(await AuthClient.ProblemAsync(throttled)));
        Assert.Equal(TimeSpan.FromMinutes(15), throttled.Headers.RetryAfter?.Delta);

        cluster.Time.Advance(TimeSpan.FromMinutes(14));
        var stillThrottled = await cluster.Client(0).PostAsync("/v1/auth/login", new { username = "bruteme", password = "correct-horse" });
        Assert.Equal(HttpStatusCode.TooManyRequests, stillThrottled.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(1), stillThrottled.Headers.RetryAfter?.Delta);

        cluster.Time.Advance(TimeSpan.FromMinutes(1));
        await cluster.Client(0).LoginAsync("bruteme");
    }

    [Fact]
    public async Task One_address_spraying_many_usernames_is_throttled()
    {
        await using var cluster = await AuthCluster.StartAsync(settings: new Dictionary<string, string> { ["Auth:LoginFailuresPerIpBeforeThrottle"] = "3" });
        var client = cluster.Client();
        await client.RegisterAsync("sprayed");
        foreach (var name in new[] { "one_user", "two_user", "three_user" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/v1/auth/login", new { username = name, password = "password1" })).StatusCode);
        }
        var throttled = await client.PostAsync("/v1/auth/login", new { username = "sprayed", password = "correct-horse" });
        Assert.Equal((429, "throttled"), Pick(await AuthClient.ProblemAsync(throttled)));
        cluster.Time.Advance(TimeSpan.FromMinutes(15));
        await client.LoginAsync("sprayed");
    }

    [Fact]
    public async Task The_admin_route_is_forbidden_to_players_and_open_to_configured_admins()
    {
        await using var cluster = await AuthCluster.StartAsync(settings: new Dictionary<string, string> { ["Auth:Admins"] = "Root, ops" });
        var client = cluster.Client();
        var player = await client.RegisterAsync("pat");
        var guest = await client.GuestAsync("device-admin-check");
        var admin = await client.RegisterAsync("root");

        foreach (var token in new[] { player.AccessToken, guest.AccessToken })
        {
            var refused = await client.SendAsync(HttpMethod.Post, "/v1/auth/keys/rotate", token);
            Assert.Equal((403, "forbidden"), Pick(await AuthClient.ProblemAsync(refused)));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(HttpMethod.Post, "/v1/auth/keys/rotate", null)).StatusCode);

        var me = TokenForge.Json(await (await client.MeAsync(admin.AccessToken)).Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(["player", "admin"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Post, "/v1/auth/keys/rotate", admin.AccessToken)).StatusCode);

        // A player cannot grant itself the role: the claim is signed.
        var (_, payload) = TokenForge.Split(player.AccessToken);
        Assert.DoesNotContain("admin", payload["roles"]!.AsArray().Select(r => r!.GetValue<string>()));
    }

    private static (int, string?) Pick((int Status, string? Code, System.Text.Json.JsonElement Body) problem) => (problem.Status, problem.Code);
}
