using System.Text.Json;
using DaprGame.Chat.Actors;
using DaprGame.Chat.Domain;
using DaprGame.Chat.Domain.Channels;
using DaprGame.Chat.Infrastructure;
using DaprGame.Contracts.Chat;
using DaprGame.Hosting;

namespace DaprGame.Chat.Endpoints;

/// <summary>
/// The routes of <see cref="ChatRoutes"/>, called by the gateway through service invocation. Every handler checks the
/// acting player header, the ids and the body before it touches an actor; the actor answers with a value or a domain
/// error, mapped once by <see cref="ChatErrors"/>.
/// </summary>
public static class ChatEndpoints
{
    public static IEndpointRouteBuilder MapChatEndpoints(this IEndpointRouteBuilder routes)
    {
        // The acting player arrives in a header the gateway sets from a verified token. That header is believed only
        // on calls the callee's sidecar marks as coming from a trusted app (dapr-caller-app-id, which the sidecar sets
        // and overwrites), so no other service in the mesh can speak for a player.
        var trusted = (routes.ServiceProvider.GetRequiredService<IConfiguration>().GetSection("Chat:TrustedCallers").Get<string[]>()
            is { Length: > 0 } configured ? configured : [DaprGame.Contracts.AppIds.Gateway]).ToHashSet(StringComparer.Ordinal);
        var app = routes.MapGroup(string.Empty).AddEndpointFilter(async (context, next) =>
            trusted.Contains(context.HttpContext.Request.Headers["dapr-caller-app-id"].ToString())
                ? await next(context)
                : ChatErrors.Problem(ChatErrorKind.Forbidden, "only the gateway calls the chat API (Chat:TrustedCallers)"));
        app.MapGet(ChatRoutes.Channels, ListRoomsAsync);
        app.MapPost(ChatRoutes.Channels, CreateAsync);
        app.MapGet(ChatRoutes.MyChannels, MyChannelsAsync);
        app.MapGet(ChatRoutes.Channel("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, p => RoomAsync<PlayerCall, ChannelView>(a, channelId, nameof(IChatRoom.ViewAsync), new PlayerCall(p), h)));
        app.MapPost(ChatRoutes.Join("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, p => RoomAsync<PlayerCall, JoinResult>(a, channelId, nameof(IChatRoom.JoinAsync), new PlayerCall(p), h)));
        app.MapPost(ChatRoutes.Leave("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, p => RoomAsync<PlayerCall, ChannelInfo>(a, channelId, nameof(IChatRoom.LeaveAsync), new PlayerCall(p), h)));

        app.MapGet(ChatRoutes.Messages("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, p =>
            {
                var query = h.Request.Query;
                long? after = null;
                int? limit = null;
                if (query.TryGetValue("after", out var afterText))
                {
                    if (!long.TryParse(afterText, out var parsed) || parsed < 0)
                    {
                        return Invalid("after is an offset, 0 or more");
                    }
                    after = parsed;
                }
                if (query.TryGetValue("limit", out var limitText))
                {
                    if (!int.TryParse(limitText, out var parsed) || parsed is < 1 or > 200)
                    {
                        return Invalid("limit is 1-200");
                    }
                    limit = parsed;
                }
                return RoomAsync<HistoryCall, HistoryPage>(a, channelId, nameof(IChatRoom.HistoryAsync), new HistoryCall(p, after, limit), h);
            }));
        app.MapPost(ChatRoutes.Messages("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, async p =>
            {
                var body = await BodyAsync<PostMessage>(h);
                if (body is null || ValidPost(body) is not null)
                {
                    return await Invalid(body is null ? "body is a PostMessage" : ValidPost(body)!);
                }
                return await RoomAsync<PostCall, MessageAck>(a, channelId, nameof(IChatRoom.PostAsync), new PostCall(p, body.ClientMessageId, body.Text), h);
            }));
        app.MapPut("/v1/channels/{channelId}/messages/{offset:long}", (HttpContext h, string channelId, long offset, ChatActorClient a) =>
            Channel(h, channelId, async p => await BodyAsync<EditMessage>(h) is { Text: { } text }
                ? await RoomAsync<EditCall, MessageAck>(a, channelId, nameof(IChatRoom.EditAsync), new EditCall(p, offset, text), h)
                : await Invalid("body is an EditMessage")));
        app.MapDelete("/v1/channels/{channelId}/messages/{offset:long}", (HttpContext h, string channelId, long offset, ChatActorClient a) =>
            Channel(h, channelId, p => RoomAsync<OffsetCall, MessageAck>(a, channelId, nameof(IChatRoom.DeleteAsync), new OffsetCall(p, offset), h)));
        app.MapPost(ChatRoutes.Direct("{otherPlayerId}"), DirectAsync);

        app.MapPost(ChatRoutes.Invite("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Target(h, channelId, (p, t) => RoomAsync<TargetCall, ChannelInfo>(a, channelId, nameof(IChatRoom.InviteAsync), new TargetCall(p, t), h)));
        app.MapPost(ChatRoutes.Kick("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Target(h, channelId, (p, t) => RoomAsync<TargetCall, ChannelInfo>(a, channelId, nameof(IChatRoom.KickAsync), new TargetCall(p, t), h)));
        app.MapPost(ChatRoutes.Purge("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Target(h, channelId, (p, t) => RoomAsync<TargetCall, int>(a, channelId, nameof(IChatRoom.PurgeAsync), new TargetCall(p, t), h,
                deleted => TypedResults.Ok(new Dictionary<string, int> { ["deleted"] = deleted }))));
        app.MapPost(ChatRoutes.Role("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, async p => await BodyAsync<RoleChange>(h) is { } body && ChannelIds.IsValidPlayerId(body.PlayerId) && Enum.IsDefined(body.Role)
                ? await RoomAsync<RoleCall, ChannelInfo>(a, channelId, nameof(IChatRoom.RoleAsync), new RoleCall(p, body.PlayerId, body.Role), h)
                : await Invalid("body is a RoleChange with a valid player id and role")));
        app.MapPost(ChatRoutes.Mute("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) => SanctionAsync(h, channelId, a, ban: false));
        app.MapPost(ChatRoutes.Ban("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) => SanctionAsync(h, channelId, a, ban: true));
        app.MapDelete(ChatRoutes.Mute("{channelId}") + "/{playerId}", (HttpContext h, string channelId, string playerId, ChatActorClient a) => LiftAsync(h, channelId, playerId, a, ban: false));
        app.MapDelete(ChatRoutes.Ban("{channelId}") + "/{playerId}", (HttpContext h, string channelId, string playerId, ChatActorClient a) => LiftAsync(h, channelId, playerId, a, ban: true));

        app.MapPost(ChatRoutes.Reports("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, async p => await BodyAsync<Report>(h) is { Reason: { Length: >= 1 and <= 500 } reason, Offset: >= 1 } body
                ? await RoomAsync<ReportCall, ReportEntry>(a, channelId, nameof(IChatRoom.ReportAsync), new ReportCall(p, body.Offset, reason), h)
                : await Invalid("body is a Report: an offset and a reason of 1-500 characters")));
        app.MapGet(ChatRoutes.Reports("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, p => RoomAsync<PlayerCall, IReadOnlyList<ReportEntry>>(a, channelId, nameof(IChatRoom.ReportsAsync), new PlayerCall(p), h)));
        app.MapPost(ChatRoutes.Presence("{channelId}"), (HttpContext h, string channelId, ChatActorClient a) =>
            Channel(h, channelId, async _ => await BodyAsync<PresenceUpdate>(h) is { } body && ChannelIds.IsValidPlayerId(body.PlayerId)
                ? await RoomAsync<PresenceCall, bool>(a, channelId, nameof(IChatRoom.PresenceAsync), new PresenceCall(body.PlayerId, body.Online), h, _ => TypedResults.NoContent())
                : await Invalid("body is a PresenceUpdate with a valid player id")));
        return app;
    }

    private static async Task<IResult> ListRoomsAsync(HttpContext http, ChatActorClient actors, ChatOptions options)
    {
        if (Player(http) is not { } player)
        {
            return ChatErrors.Unauthenticated();
        }
        var rooms = (await actors.DirectoryListAsync(http.RequestAborted)).ToDictionary(r => r.ChannelId, StringComparer.Ordinal);
        foreach (var name in options.DefaultRooms)
        {
            var id = ChannelIds.Room(name);
            if (!rooms.ContainsKey(id))
            {
                // A configured room never activated yet: its first activation creates it and lists it in the directory.
                var view = await actors.RoomAsync<PlayerCall, ActorReply<ChannelView>>(id, nameof(IChatRoom.ViewAsync), new PlayerCall(player), http.RequestAborted);
                if (view.Value is { } v)
                {
                    rooms[id] = v.Channel;
                }
            }
        }
        return TypedResults.Ok(rooms.Values.OrderBy(r => r.ChannelId, StringComparer.Ordinal).ToList());
    }

    private static async Task<IResult> CreateAsync(HttpContext http, ChatActorClient actors)
    {
        if (Player(http) is not { } player)
        {
            return ChatErrors.Unauthenticated();
        }
        var body = await BodyAsync<CreateChannel>(http);
        string channelId;
        switch (body)
        {
            case { Kind: ChannelKind.Room, Name: { } name } when ChannelIds.IsValidRoomName(name):
                channelId = ChannelIds.Room(name);
                break;
            case { Kind: ChannelKind.Group, Name: { } name } when name.Trim().Length is >= 1 and <= 64:
                channelId = ChannelIds.NewGroup();
                break;
            default:
                return ChatErrors.Problem(ChatErrorKind.Invalid, "body is a CreateChannel: a room (name 1-32 of [a-z0-9-]) or a group (name 1-64 characters)");
        }
        var reply = await actors.RoomAsync<CreateCall, ActorReply<ChannelInfo>>(channelId, nameof(IChatRoom.CreateAsync), new CreateCall(player, body.Kind, body.Name), http.RequestAborted);
        return reply.Error is { } error ? ChatErrors.Problem(error) : TypedResults.Created(ChatRoutes.Channel(channelId), reply.Value);
    }

    private static async Task<IResult> MyChannelsAsync(HttpContext http, ChatActorClient actors)
    {
        if (Player(http) is not { } player)
        {
            return ChatErrors.Unauthenticated();
        }
        var ids = await actors.MemberChannelsAsync(player, http.RequestAborted);
        var views = await Task.WhenAll(ids.Select(id =>
            actors.RoomAsync<PlayerCall, ActorReply<ChannelView>>(id, nameof(IChatRoom.ViewAsync), new PlayerCall(player), http.RequestAborted)));
        // The index can trail a removal by a moment (it is updated after the channel's own save): trust the channel.
        return TypedResults.Ok(views.Where(v => v.Value?.Role is not null).Select(v => v.Value!.Channel).ToList());
    }

    private static async Task<IResult> DirectAsync(HttpContext http, string otherPlayerId, ChatActorClient actors)
    {
        if (Player(http) is not { } player)
        {
            return ChatErrors.Unauthenticated();
        }
        if (!ChannelIds.IsValidPlayerId(otherPlayerId) || otherPlayerId == player)
        {
            return await Invalid("a direct message goes to another valid player id");
        }
        var body = await BodyAsync<PostMessage>(http);
        if (body is null || ValidPost(body) is not null)
        {
            return await Invalid(body is null ? "body is a PostMessage" : ValidPost(body)!);
        }
        var channelId = ChannelIds.Direct(player, otherPlayerId);
        return await RoomAsync<DirectPostCall, MessageAck>(actors, channelId, nameof(IChatRoom.PostDirectAsync), new DirectPostCall(player, otherPlayerId, body.ClientMessageId, body.Text), http);
    }

    private static Task<IResult> SanctionAsync(HttpContext http, string channelId, ChatActorClient actors, bool ban) =>
        Channel(http, channelId, async p => await BodyAsync<Sanction>(http) is { } body && ChannelIds.IsValidPlayerId(body.PlayerId) && body.Reason is not { Length: > 500 }
            ? await RoomAsync<SanctionCall, ChannelInfo>(actors, channelId, nameof(IChatRoom.SanctionAsync), new SanctionCall(p, body.PlayerId, ban, Lift: false, body.Until, body.Reason), http)
            : await Invalid("body is a Sanction with a valid player id and a reason of at most 500 characters"));

    private static Task<IResult> LiftAsync(HttpContext http, string channelId, string playerId, ChatActorClient actors, bool ban) =>
        Channel(http, channelId, p => ChannelIds.IsValidPlayerId(playerId)
            ? RoomAsync<SanctionCall, ChannelInfo>(actors, channelId, nameof(IChatRoom.SanctionAsync), new SanctionCall(p, playerId, ban, Lift: true, null, null), http)
            : Invalid("invalid player id"));

    private static Task<IResult> Target(HttpContext http, string channelId, Func<string, string, Task<IResult>> next) =>
        Channel(http, channelId, async p => await BodyAsync<MemberAction>(http) is { } body && ChannelIds.IsValidPlayerId(body.PlayerId)
            ? await next(p, body.PlayerId)
            : await Invalid("body is a MemberAction with a valid player id"));

    /// <summary>Checks the acting player and the channel id, then runs <paramref name="next"/> with the player.</summary>
    private static Task<IResult> Channel(HttpContext http, string channelId, Func<string, Task<IResult>> next)
    {
        if (Player(http) is not { } player)
        {
            return Task.FromResult(ChatErrors.Unauthenticated());
        }
        if (ChannelIds.KindOf(channelId) is null)
        {
            return Task.FromResult(ChatErrors.Problem(ChatErrorKind.NotFound, "no such channel: not a channel id"));
        }
        return next(player);
    }

    private static async Task<IResult> RoomAsync<TCall, T>(ChatActorClient actors, string channelId, string method, TCall call, HttpContext http, Func<T, IResult>? ok = null)
    {
        var reply = await actors.RoomAsync<TCall, ActorReply<T>>(channelId, method, call, http.RequestAborted);
        if (reply.Error is { } error)
        {
            return ChatErrors.Problem(error);
        }
        return ok is null ? TypedResults.Ok(reply.Value) : ok(reply.Value!);
    }

    private static string? Player(HttpContext http) =>
        http.Request.Headers[ChatHeaders.PlayerId].ToString() is var id && ChannelIds.IsValidPlayerId(id) ? id : null;

    private static string? ValidPost(PostMessage body) =>
        body.ClientMessageId is not { Length: >= 1 and <= 64 } ? "clientMessageId is 1-64 characters"
        : body.Text is not { } text || text.Trim().Length < 1 ? "text is 1-2000 characters after trimming"
        : null;

    private static Task<IResult> Invalid(string message) => Task.FromResult(ChatErrors.Problem(ChatErrorKind.Invalid, message));

    /// <summary>The JSON body, or null when it is missing or not JSON of that shape (the caller answers <c>invalid</c>).</summary>
    private static async Task<T?> BodyAsync<T>(HttpContext http) where T : class
    {
        if (http.Items.TryGetValue(typeof(T), out var cached))
        {
            return (T?)cached;
        }
        T? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, ServiceDefaults.JsonOptions, http.RequestAborted);
        }
        catch (JsonException)
        {
            body = null;
        }
        http.Items[typeof(T)] = body;
        return body;
    }
}
