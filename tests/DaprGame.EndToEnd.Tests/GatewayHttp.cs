using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DaprGame.Hosting;

namespace DaprGame.EndToEnd.Tests;

/// <summary>A player's HTTP calls to the gateway, as the end-to-end tests make them.</summary>
internal static class GatewayHttp
{
    /// <summary>A guest account for a device id: its access token and player id.</summary>
    public static async Task<(string Token, string PlayerId)> GuestAsync(HttpClient http, string device, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("/v1/auth/guest", new { deviceId = device }, ct);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        return (body.GetProperty("accessToken").GetString()!, body.GetProperty("playerId").GetString()!);
    }

    /// <summary>The access token a sign-in route (register, login) answers.</summary>
    public static async Task<string> TokenAsync(HttpClient http, string route, object request, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(route, request, ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("accessToken").GetString()!;
    }

    /// <summary>One request with the player's bearer token (none when null); the status and the JSON body, if any.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, string? token, HttpMethod method, string route, object? body, CancellationToken ct,
        Action<HttpRequestMessage>? extra = null)
    {
        using var request = new HttpRequestMessage(method, route);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: ServiceDefaults.JsonOptions);
        }
        extra?.Invoke(request);
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }
}
