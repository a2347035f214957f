using Dapr.Actors.Runtime;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Actors;

/// <summary>
/// The public rooms and their member counts. One key per room plus an index written only when a room is added, so a
/// join rewrites one small record. Counts are as of each room's last membership change.
/// </summary>
[Actor(TypeName = ChatActorClient.DirectoryType)]
public sealed class ChatDirectoryActor(ActorHost host) : Actor(host), IChatDirectory
{
    private const string IndexKey = "index";

    public async Task UpsertAsync(ChannelInfo room)
    {
        var index = await IndexAsync();
        if (index.Add(room.ChannelId))
        {
            await StateManager.SetStateAsync(IndexKey, index);
        }
        await StateManager.SetStateAsync(room.ChannelId, room);
    }

    public async Task<IReadOnlyList<ChannelInfo>> ListAsync()
    {
        var rooms = new List<ChannelInfo>();
        foreach (var id in await IndexAsync())
        {
            if (await StateManager.TryGetStateAsync<ChannelInfo>(id) is { HasValue: true } room)
            {
                rooms.Add(room.Value);
            }
        }
        return rooms;
    }

    private async Task<SortedSet<string>> IndexAsync()
    {
        var stored = await StateManager.TryGetStateAsync<SortedSet<string>>(IndexKey);
        return stored.HasValue ? new SortedSet<string>(stored.Value, StringComparer.Ordinal) : new SortedSet<string>(StringComparer.Ordinal);
    }
}
