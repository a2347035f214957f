using DaprGame.Chat.Actors;
using Microsoft.Data.Sqlite;

namespace DaprGame.Chat.Tests;

/// <summary>
/// What a channel leaves in the actor state store: one key per event in the window (evicted ones deleted), members
/// spread over 64 keys, and a post that rewrites only <c>meta</c> and adds its own event key.
/// </summary>
public sealed class StorageLayoutTests
{
    [Fact]
    public async Task A_post_writes_meta_and_one_event_key_and_the_window_keeps_only_its_events()
    {
        await using var rig = await ChatRig.StartAsync(new() { ["Chat:HistoryWindow"] = "5", ["Chat:RateLimit:Burst"] = "100" });
        var players = Enumerable.Range(0, 12).Select(i => $"player{i}").ToList();
        foreach (var p in players)
        {
            await rig.JoinAsync("room-help", p);
        }
        var before = Keys(rig);

        var ack = await rig.PostAsync("room-help", "player0", "c-1", "one post");
        var after = Keys(rig);

        var changed = after.Where(k => !before.TryGetValue(k.Key, out var etag) || etag != k.Value).Select(k => k.Key).Order(StringComparer.Ordinal).ToList();
        var removed = before.Keys.Except(after.Keys).ToList();
        Assert.Equal([$"e-{ack.Offset}", "meta"], changed);
        Assert.Equal([$"e-{ack.Offset - 5}"], removed);
        Assert.Equal(Enumerable.Range((int)ack.Offset - 4, 5).Select(o => $"e-{o}").Order(StringComparer.Ordinal),
            after.Keys.Where(k => k.StartsWith("e-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        var buckets = players.Select(ChatRoomActor.MemberBucket).Distinct().Select(b => $"members-{b}").Order(StringComparer.Ordinal);
        Assert.Equal(buckets, after.Keys.Where(k => k.StartsWith("members-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    /// <summary>The channel's keys (without the actor prefix) and their etags.</summary>
    private static Dictionary<string, string> Keys(ChatRig rig)
    {
        const string Prefix = "chat||ChatRoom||room-help||";
        using var connection = new SqliteConnection($"Data Source={rig.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, etag FROM state WHERE key LIKE $prefix";
        command.Parameters.AddWithValue("$prefix", Prefix + "%");
        using var reader = command.ExecuteReader();
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            keys[reader.GetString(0)[Prefix.Length..]] = reader.GetString(1);
        }
        return keys;
    }
}
