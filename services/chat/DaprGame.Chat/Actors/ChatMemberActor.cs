using Dapr.Actors.Runtime;

namespace DaprGame.Chat.Actors;

/// <summary>The channels one player belongs to, for <c>GET /v1/me/channels</c>. Adds and removes are idempotent.</summary>
[Actor(TypeName = ChatActorClient.MemberType)]
public sealed class ChatMemberActor(ActorHost host) : Actor(host), IChatMember
{
    private const string Key = "channels";

    public async Task AddAsync(string channelId)
    {
        var channels = await LoadAsync();
        if (channels.Add(channelId))
        {
            await StateManager.SetStateAsync(Key, channels);
        }
    }

    public async Task RemoveAsync(string channelId)
    {
        var channels = await LoadAsync();
        if (channels.Remove(channelId))
        {
            await StateManager.SetStateAsync(Key, channels);
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync() => [.. (await LoadAsync()).Order(StringComparer.Ordinal)];

    private async Task<SortedSet<string>> LoadAsync()
    {
        var stored = await StateManager.TryGetStateAsync<SortedSet<string>>(Key);
        return stored.HasValue ? new SortedSet<string>(stored.Value, StringComparer.Ordinal) : new SortedSet<string>(StringComparer.Ordinal);
    }
}
