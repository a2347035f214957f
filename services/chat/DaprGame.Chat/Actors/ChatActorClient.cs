using System.Text.Json;
using Dapr.Actors;
using Dapr.Actors.Client;
using DaprGame.Hosting;

namespace DaprGame.Chat.Actors;

/// <summary>
/// Calls chat's actors through this app's own sidecar (<see cref="DaprEndpoints"/>), by method name with JSON bodies,
/// so two chat apps in one test process each use their own sidecar.
/// </summary>
public sealed class ChatActorClient
{
    public const string RoomType = "ChatRoom";
    public const string MemberType = "ChatMember";
    public const string DirectoryType = "ChatDirectory";
    public const string DirectoryId = "rooms";

    private readonly ActorProxyFactory _factory;

    public ChatActorClient(DaprEndpoints endpoints, JsonSerializerOptions json)
    {
        _factory = new ActorProxyFactory(new ActorProxyOptions
        {
            HttpEndpoint = endpoints.Http,
            DaprApiToken = endpoints.ApiToken,
            JsonSerializerOptions = json,
            RequestTimeout = TimeSpan.FromSeconds(60),
        });
    }

    public Task<TResult> RoomAsync<TCall, TResult>(string channelId, string method, TCall call, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(channelId), RoomType).InvokeMethodAsync<TCall, TResult>(method, call, cancellationToken);

    public Task MemberAsync(string playerId, string method, string channelId, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(playerId), MemberType).InvokeMethodAsync(method, channelId, cancellationToken);

    public Task<IReadOnlyList<string>> MemberChannelsAsync(string playerId, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(playerId), MemberType).InvokeMethodAsync<IReadOnlyList<string>>(nameof(IChatMember.ListAsync), cancellationToken);

    public Task DirectoryUpsertAsync(Contracts.Chat.ChannelInfo room, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(DirectoryId), DirectoryType).InvokeMethodAsync(nameof(IChatDirectory.UpsertAsync), room, cancellationToken);

    public Task<IReadOnlyList<Contracts.Chat.ChannelInfo>> DirectoryListAsync(CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(DirectoryId), DirectoryType).InvokeMethodAsync<IReadOnlyList<Contracts.Chat.ChannelInfo>>(nameof(IChatDirectory.ListAsync), cancellationToken);
}
