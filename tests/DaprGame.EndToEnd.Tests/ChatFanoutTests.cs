using System.Text.Json;
using DaprGame.Contracts;
using DaprGame.Testing;
using DaprGame.Testing.Servers;

namespace DaprGame.EndToEnd.Tests;

/// <summary>The fan-out promise on the embedded default profile.</summary>
public sealed class LocalChatFanoutTests
{
    [Fact]
    public Task Every_member_gets_every_message_once_in_offset_order_and_a_cut_socket_resumes_without_gaps() =>
        ChatFanout.RunAsync(ClusterProfile.Local, redis: null);
}

/// <summary>The same promise on the Redis profile (Redis state, Redis Streams pub/sub).</summary>
public sealed class RedisChatFanoutTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public Task Every_member_gets_every_message_once_in_offset_order_and_a_cut_socket_resumes_without_gaps() =>
        ChatFanout.RunAsync(ClusterProfile.Redis, redis);
}

/// <summary>
/// RELIABILITY #17 at CI size: 20 rooms × 25 members over real WebSockets, spread over two gateway replicas; three
/// senders per room; one member per room loses its socket mid-stream and resumes on the other gateway.
/// </summary>
internal static class ChatFanout
{
    private const int Rooms = 20;
    private const int Members = 25;
    private const int Senders = 3;
    private const int MessagesPerPhase = 3;

    public static async Task RunAsync(ClusterProfile profile, RedisServer? redis)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ChatCluster.StartAsync(profile, redis);
        var gateways = cluster.Nodes(AppIds.Gateway).Select(n => n.AppAddress).ToArray();
        using var http = new HttpClient();

        var clients = new PlayerClient[Rooms][];
        var channels = new string[Rooms];
        try
        {
            for (var r = 0; r < Rooms; r++)
            {
                clients[r] = new PlayerClient[Members];
            }
            await Parallel.ForAsync(0, Rooms * Members, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
            {
                var (r, m) = (i / Members, i % Members);
                var gateway = gateways[i % gateways.Length];
                var client = await PlayerClient.GuestAsync(http, gateway, $"e2e-{profile}-{r}-{m}", token);
                await client.ConnectAsync(gateway, token);
                clients[r][m] = client;
            });

            await Parallel.ForAsync(0, Rooms, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (r, token) =>
            {
                var created = await clients[r][0].RequestAsync("channel.create", new { kind = "room", name = $"e2e-{r}" }, token);
                channels[r] = created.GetProperty("channelId").GetString()!;
                foreach (var client in clients[r])
                {
                    await Chat.JoinAsync(client, channels[r], token);
                }
            });

            // Everyone has joined: from here on each member must see every event of its room exactly once.
            var lastOffsets = new long[Rooms];
            var sent = new List<string>[Rooms];
            for (var r = 0; r < Rooms; r++)
            {
                sent[r] = [];
            }

            async Task SendPhaseAsync(int phase)
            {
                await Parallel.ForAsync(0, Rooms * Senders, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
                {
                    var (r, s) = (i / Senders, i % Senders);
                    for (var k = 0; k < MessagesPerPhase; k++)
                    {
                        var text = $"r{r}-s{s}-p{phase}-{k}";
                        var ack = await clients[r][s].RequestAsync("message.send", new { channelId = channels[r], clientMessageId = text, text }, token);
                        var offset = ack.GetProperty("offset").GetInt64();
                        lock (sent[r])
                        {
                            sent[r].Add(text);
                            lastOffsets[r] = Math.Max(lastOffsets[r], offset);
                        }
                    }
                });
            }

            const int cut = Members - 1;
            await SendPhaseAsync(0);
            // One member per room loses its connection mid-stream…
            for (var r = 0; r < Rooms; r++)
            {
                await clients[r][cut].CutAsync();
            }
            await SendPhaseAsync(1);
            // …and comes back on the other gateway replica, asking to resume from what it had shown.
            for (var r = 0; r < Rooms; r++)
            {
                var other = gateways[(r * Members + cut + 1) % gateways.Length];
                await clients[r][cut].ReconnectAndResumeAsync(other, ct);
            }
            await SendPhaseAsync(2);

            var waits = new List<Task>();
            for (var r = 0; r < Rooms; r++)
            {
                foreach (var client in clients[r])
                {
                    waits.Add(client.WaitForOffsetAsync(channels[r], lastOffsets[r], TimeSpan.FromSeconds(60), ct));
                }
            }
            await Task.WhenAll(waits);

            for (var r = 0; r < Rooms; r++)
            {
                for (var m = 0; m < Members; m++)
                {
                    var events = clients[r][m].Events(channels[r]);
                    Chat.AssertContiguous(events, $"room {r} member {m}");
                    var posted = events.Where(e => e.Type == "chat.message.posted.v1").Select(e => e.Data.GetProperty("text").GetString()!).ToList();
                    Assert.Equal(sent[r].Order(StringComparer.Ordinal), posted.Order(StringComparer.Ordinal));
                }
            }
        }
        finally
        {
            foreach (var room in clients)
            {
                foreach (var client in room ?? [])
                {
                    if (client is not null)
                    {
                        await client.DisposeAsync();
                    }
                }
            }
        }
    }
}

/// <summary>Small steps every chat test repeats.</summary>
internal static class Chat
{
    /// <summary>Joins, treating "already a member" (the creator of a channel) as done.</summary>
    public static async Task<JsonElement?> JoinAsync(PlayerClient client, string channelId, CancellationToken ct)
    {
        try
        {
            return await client.RequestAsync("channel.join", new { channelId }, ct);
        }
        catch (GatewayErrorException e) when (e.Code == "conflict")
        {
            return null;
        }
    }

    /// <summary>Offsets seen by one client: one epoch, each exactly one more than the one before (no gap, no duplicate).</summary>
    public static void AssertContiguous(IReadOnlyList<ReceivedEvent> events, string who)
    {
        Assert.NotEmpty(events);
        for (var i = 1; i < events.Count; i++)
        {
            Assert.True(events[i].Epoch == events[0].Epoch, $"{who}: epoch changed at index {i}");
            Assert.True(events[i].Offset == events[i - 1].Offset + 1,
                $"{who}: offset {events[i].Offset} followed {events[i - 1].Offset} ({(events[i].Offset <= events[i - 1].Offset ? "duplicate or reordering" : "gap")})");
        }
    }
}
