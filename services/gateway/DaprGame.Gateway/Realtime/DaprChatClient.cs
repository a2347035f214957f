using System.Globalization;
using System.Text.Json;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Chat;
using DaprGame.Hosting;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// <see cref="IChatClient"/> over Dapr service invocation to app-id <c>chat</c> through this replica's sidecar. The
/// acting player travels in <see cref="ChatHeaders.PlayerId"/>; chat's ProblemDetails become <see cref="ChatError"/>s
/// carrying its <c>code</c> unchanged.
/// </summary>
public sealed class DaprChatClient : IChatClient, IDisposable
{
    private readonly HttpClient _http;
    private readonly GatewayRealtimeLog _log;

    public DaprChatClient(DaprEndpoints endpoints, GatewayRealtimeLog log)
    {
        // One invoke client for the app's lifetime: it addresses "http://chat/..." and the Dapr handler rewrites that
        // to this replica's sidecar, so resiliency, tracing and access control apply as for any Dapr call.
        _http = DaprClient.CreateInvokeHttpClient(AppIds.Chat, endpoints.Http, endpoints.ApiToken);
        _log = log;
    }

    public Task<ChatResult<IReadOnlyList<ChannelInfo>>> ListChannelsAsync(string playerId, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<ChannelInfo>>(HttpMethod.Get, ChatRoutes.Channels, playerId, null, cancellationToken);

    public Task<ChatResult<IReadOnlyList<ChannelInfo>>> MyChannelsAsync(string playerId, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<ChannelInfo>>(HttpMethod.Get, ChatRoutes.MyChannels, playerId, null, cancellationToken);

    public Task<ChatResult<ChannelInfo>> CreateChannelAsync(string playerId, CreateChannel request, CancellationToken cancellationToken) =>
        SendAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Channels, playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> GetChannelAsync(string playerId, string channelId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Get, ChatRoutes.Channel(Escape(channelId)), playerId, null, cancellationToken);

    public Task<ChatResult<JoinResult>> JoinAsync(string playerId, string channelId, CancellationToken cancellationToken) =>
        SendAsync<JoinResult>(HttpMethod.Post, ChatRoutes.Join(Escape(channelId)), playerId, null, cancellationToken);

    public Task<ChatResult<JsonElement>> LeaveAsync(string playerId, string channelId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Leave(Escape(channelId)), playerId, null, cancellationToken);

    public Task<ChatResult<HistoryPage>> HistoryAsync(string playerId, string channelId, long after, int limit, CancellationToken cancellationToken) =>
        SendAsync<HistoryPage>(
            HttpMethod.Get,
            ChatRoutes.Messages(Escape(channelId)) + "?after=" + after.ToString(CultureInfo.InvariantCulture) + "&limit=" + limit.ToString(CultureInfo.InvariantCulture),
            playerId,
            null,
            cancellationToken);

    public Task<ChatResult<MessageAck>> PostAsync(string playerId, string channelId, PostMessage request, CancellationToken cancellationToken) =>
        SendAsync<MessageAck>(HttpMethod.Post, ChatRoutes.Messages(Escape(channelId)), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> EditAsync(string playerId, string channelId, long offset, EditMessage request, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Put, ChatRoutes.Message(Escape(channelId), offset), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> DeleteAsync(string playerId, string channelId, long offset, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Delete, ChatRoutes.Message(Escape(channelId), offset), playerId, null, cancellationToken);

    public Task<ChatResult<MessageAck>> PostDirectAsync(string playerId, string otherPlayerId, PostMessage request, CancellationToken cancellationToken) =>
        SendAsync<MessageAck>(HttpMethod.Post, ChatRoutes.Direct(Escape(otherPlayerId)), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> InviteAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Invite(Escape(channelId)), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> KickAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Kick(Escape(channelId)), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> SetRoleAsync(string playerId, string channelId, RoleChange request, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Role(Escape(channelId)), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> MuteAsync(string playerId, string channelId, Sanction request, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Mute(Escape(channelId)), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> UnmuteAsync(string playerId, string channelId, string targetPlayerId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Delete, ChatRoutes.Mute(Escape(channelId)) + "/" + Escape(targetPlayerId), playerId, null, cancellationToken);

    public Task<ChatResult<JsonElement>> BanAsync(string playerId, string channelId, Sanction request, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Ban(Escape(channelId)), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> UnbanAsync(string playerId, string channelId, string targetPlayerId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Delete, ChatRoutes.Ban(Escape(channelId)) + "/" + Escape(targetPlayerId), playerId, null, cancellationToken);

    public Task<ChatResult<JsonElement>> PurgeAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Purge(Escape(channelId)), playerId, request, cancellationToken);

    public Task<ChatResult<JsonElement>> ReportAsync(string playerId, string channelId, Report request, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Reports(Escape(channelId)), playerId, request, cancellationToken);

    public Task<ChatResult<IReadOnlyList<ReportEntry>>> ListReportsAsync(string playerId, string channelId, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<ReportEntry>>(HttpMethod.Get, ChatRoutes.Reports(Escape(channelId)), playerId, null, cancellationToken);

    public Task<ChatResult<JsonElement>> SetPresenceAsync(string channelId, PresenceUpdate update, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, ChatRoutes.Presence(Escape(channelId)), update.PlayerId, update, cancellationToken);

    public void Dispose() => _http.Dispose();

    // Ids are validated to a URL-safe alphabet before they get here; escaping is a second line, not the first.
    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private async Task<ChatResult<T>> SendAsync<T>(HttpMethod method, string route, string playerId, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, route.TrimStart('/'));
        request.Headers.Add(ChatHeaders.PlayerId, playerId);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: ServiceDefaults.JsonOptions);
        }
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                if (response.Content.Headers.ContentLength == 0 || response.StatusCode == System.Net.HttpStatusCode.NoContent)
                {
                    return new ChatResult<T>(default, null);
                }
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (bytes.Length == 0)
                {
                    return new ChatResult<T>(default, null);
                }
                return new ChatResult<T>(JsonSerializer.Deserialize<T>(bytes, ChatJson.Options), null);
            }
            return await ReadProblemAsync(response, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or OperationCanceledException or NotSupportedException)
        {
            _log.ChatCallFailed(method.Method, route, ex);
            return new ChatError(GatewayErrorCodes.Unavailable, "The chat service is unavailable; try again later.", 503);
        }
    }

    private static async Task<ChatError> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? code = null;
        string? message = null;
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (bytes.Length > 0)
            {
                using var doc = JsonDocument.Parse(bytes);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    code = doc.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    message = doc.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()
                        : doc.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                }
            }
        }
        catch (JsonException)
        {
            // Not a ProblemDetails (a proxy or the sidecar answered): the status decides the code below.
        }
        code ??= status switch
        {
            400 => ChatErrorCodes.Invalid,
            403 => ChatErrorCodes.Forbidden,
            404 => ChatErrorCodes.NotFound,
            409 => ChatErrorCodes.Conflict,
            429 => ChatErrorCodes.RateLimited,
            _ => GatewayErrorCodes.Unavailable,
        };
        return new ChatError(code, message ?? code, status);
    }
}

/// <summary>The JSON options for reading chat's answers and events: the wire options, tolerant of the <c>type</c> discriminator's position.</summary>
public static class ChatJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(ServiceDefaults.JsonOptions) { AllowOutOfOrderMetadataProperties = true };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
