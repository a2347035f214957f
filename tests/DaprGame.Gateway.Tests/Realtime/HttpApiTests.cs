using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>The same operations over HTTP under /v1/chat, the OpenAPI document and the browser page.</summary>
public sealed class HttpApiTests
{
    [Fact]
    public async Task Chat_over_http_validates_rate_limits_and_passes_chat_codes_through()
    {
        await using var rig = await GatewayRig.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:RateLimits:Send:PerSecond"] = "1",
            ["Gateway:RateLimits:Send:Burst"] = "2",
        });
        rig.Chat.AddChannel("room-lobby", members: ["p1"]);
        using var http = new HttpClient { BaseAddress = rig.HttpUri };
        var ct = TestContext.Current.CancellationToken;

        using (var anonymous = await http.GetAsync(new Uri("/v1/chat/channels", UriKind.Relative), ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "test:p1:s1");
        var rooms = await http.GetFromJsonAsync<JsonElement>(new Uri("/v1/chat/channels", UriKind.Relative), ct);
        Assert.Equal("room-lobby", rooms[0].GetProperty("channelId").GetString());

        using (var sent = await http.PostAsJsonAsync(new Uri("/v1/chat/channels/room-lobby/messages", UriKind.Relative), new { clientMessageId = "h1", text = "over http" }, ct))
        {
            Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
            Assert.Equal(1, (await sent.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("offset").GetInt64());
        }

        await AssertProblemAsync(await http.PostAsJsonAsync(new Uri("/v1/chat/channels/room-lobby/messages", UriKind.Relative), new { text = "no id" }, ct), HttpStatusCode.BadRequest, GatewayErrorCodes.Invalid);
        await AssertProblemAsync(await http.GetAsync(new Uri("/v1/chat/channels/room-lobby/messages?limit=500", UriKind.Relative), ct), HttpStatusCode.BadRequest, GatewayErrorCodes.Invalid);
        await AssertProblemAsync(await http.PostAsJsonAsync(new Uri("/v1/chat/channels/room-lobby/mute", UriKind.Relative), new { playerId = "p2" }, ct), HttpStatusCode.Forbidden, "forbidden");
        await AssertProblemAsync(await http.PostAsync(new Uri("/v1/chat/channels/room-nowhere/join", UriKind.Relative), null, ct), HttpStatusCode.NotFound, "not_found");

        using (var second = await http.PostAsJsonAsync(new Uri("/v1/chat/channels/room-lobby/messages", UriKind.Relative), new { clientMessageId = "h2", text = "again" }, ct))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }
        var limited = await http.PostAsJsonAsync(new Uri("/v1/chat/channels/room-lobby/messages", UriKind.Relative), new { clientMessageId = "h3", text = "too fast" }, ct);
        Assert.Equal("1", limited.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var problem = await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, GatewayErrorCodes.RateLimited);
        Assert.Equal(1000, problem.GetProperty("retryAfterMs").GetInt64());

        var page = await http.GetFromJsonAsync<JsonElement>(new Uri("/v1/chat/channels/room-lobby/messages?after=0&limit=10", UriKind.Relative), ct);
        Assert.Equal(2, page.GetProperty("events").GetArrayLength());
        Assert.Equal("chat.message.posted.v1", page.GetProperty("events")[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_openapi_document_lists_the_chat_api_and_the_page_is_served_at_the_root()
    {
        await using var rig = await GatewayRig.StartAsync();
        using var http = new HttpClient { BaseAddress = rig.HttpUri };
        var ct = TestContext.Current.CancellationToken;

        var doc = await http.GetFromJsonAsync<JsonElement>(new Uri("/openapi/v1.json", UriKind.Relative), ct);
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/v1/chat/channels", "/v1/chat/channels/{channelId}/messages", "/v1/chat/direct/{playerId}/messages", "/v1/chat/channels/{channelId}/ban/{playerId}" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not in the OpenAPI document");
        }
        Assert.False(paths.TryGetProperty(RealtimeSetup.ChatEventsRoute, out _), "internal routes stay out of the document");

        using var page = await http.GetAsync(new Uri("/", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("app.js", await page.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        var script = await http.GetStringAsync(new Uri("/app.js", UriKind.Relative), ct);
        Assert.Contains("/ws?access_token=", script, StringComparison.Ordinal);
        Assert.Contains("\"resume\"", script, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            Assert.Equal(code, problem.GetProperty("code").GetString());
            return problem;
        }
    }
}
