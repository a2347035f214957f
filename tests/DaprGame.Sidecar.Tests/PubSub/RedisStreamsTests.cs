using Dapr;
using DaprGame.Testing.Servers;
using Microsoft.AspNetCore.Http;

namespace DaprGame.Sidecar.Tests.PubSub;

/// <summary>
/// <c>pubsub.redis</c> across sidecars: consumer groups per app-id (replicas compete, app-ids fan out) and reclaim of
/// entries left pending by a sidecar that died mid-delivery.
/// </summary>
public sealed class RedisStreamsTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    [Fact]
    public async Task A_message_pending_on_a_crashed_sidecar_is_redelivered_to_a_replica_after_processingTimeout()
    {
        var appId = Unique("crash");
        var topic = Unique("jobs");
        var resources = PubSubRig.Resources("redis", redis, new() { ["processingTimeout"] = "500ms", ["redeliverInterval"] = "100" });
        var release = new TaskCompletionSource<IResult>(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var a = await PubSubRig.StartAsync(appId, resources,
            app => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "jobs", (_, _) => release.Task));
        await a.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Job = 7 }, Ct);
        var first = await a.App.NextAsync("jobs", "the delivery to replica A");

        // Replica A's sidecar dies while its app is still handling the message: the entry stays pending.
        await a.StopSidecarAsync();
        release.SetResult(Results.Ok());

        await using var b = await PubSubRig.StartAsync(appId, resources,
            app => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "jobs"));
        var redelivered = await b.App.NextAsync("jobs", "replica B reclaiming the entry A left pending");

        Assert.Equal(first.CloudEvent.GetProperty("id").GetString(), redelivered.CloudEvent.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Replicas_of_one_app_id_share_messages_and_other_app_ids_get_them_all()
    {
        var appId = Unique("shop");
        var topic = Unique("sales");
        var resources = PubSubRig.Resources("redis", redis);
        var atReplicas = System.Threading.Channels.Channel.CreateUnbounded<Delivery>();
        void Subscribe(SubscriberApp app) => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "sales");
        void SubscribeReplica(SubscriberApp app) => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "sales", (d, _) =>
        {
            atReplicas.Writer.TryWrite(d);
            return Task.FromResult(Results.Ok());
        });

        await using var replica1 = await PubSubRig.StartAsync(appId, resources, SubscribeReplica);
        await using var replica2 = await PubSubRig.StartAsync(appId, resources, SubscribeReplica);
        await using var audit = await PubSubRig.StartAsync(Unique("audit"), resources, Subscribe);

        const int count = 20;
        for (var i = 0; i < count; i++)
        {
            await replica1.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { N = i }, Ct);
        }

        var auditSeen = new HashSet<int>();
        for (var i = 0; i < count; i++)
        {
            auditSeen.Add((await audit.App.NextAsync("sales", $"message {i + 1} of {count} at the other app-id")).CloudEvent.GetProperty("data").GetProperty("n").GetInt32());
        }
        Assert.Equal(count, auditSeen.Count);

        var shopSeen = new List<int>();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(15));
        for (var i = 0; i < count; i++)
        {
            try
            {
                shopSeen.Add((await atReplicas.Reader.ReadAsync(limit.Token)).CloudEvent.GetProperty("data").GetProperty("n").GetInt32());
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"stalled: the replicas received {shopSeen.Count} of {count} messages in 15s");
            }
        }
        // Each message reached exactly one replica of the app-id.
        Assert.Equal(count, shopSeen.Distinct().Count());
        Assert.Equal(count, replica1.App.Count("sales") + replica2.App.Count("sales"));
    }

    [Fact]
    public async Task With_consumerID_set_per_replica_each_replica_is_its_own_consumer_and_gets_every_message()
    {
        // {podName} expands to each sidecar's instance id, so every replica of the app-id is its own consumer group:
        // what a gateway needs to push every event to the sockets it holds.
        var appId = Unique("push");
        var topic = Unique("events");
        var resources = PubSubRig.Resources("redis", redis, new() { ["consumerID"] = "{podName}" });
        void Subscribe(SubscriberApp app) => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "events");

        await using var replica1 = await PubSubRig.StartAsync(appId, resources, Subscribe);
        await using var replica2 = await PubSubRig.StartAsync(appId, resources, Subscribe);
        const int count = 5;
        for (var i = 0; i < count; i++)
        {
            await replica1.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { N = i }, Ct);
        }

        foreach (var replica in new[] { replica1, replica2 })
        {
            var seen = new HashSet<int>();
            for (var i = 0; i < count; i++)
            {
                seen.Add((await replica.App.NextAsync("events", $"message {i + 1} of {count} at one replica")).CloudEvent.GetProperty("data").GetProperty("n").GetInt32());
            }
            Assert.Equal(count, seen.Count);
        }
    }

    [Fact]
    public async Task Streams_use_daprs_layout_and_a_new_group_reads_from_the_start()
    {
        var topic = Unique("layout");
        var resources = PubSubRig.Resources("redis", redis);
        await using (var publisher = await PubSubRig.StartAsync(Unique("pub"), resources, _ => { }))
        {
            await publisher.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Early = true },
                new Dictionary<string, string> { ["tenant"] = "t1" }, Ct);
        }

        await using (var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Host))
        {
            var entry = Assert.Single(await connection.GetDatabase().StreamRangeAsync(topic));
            var fields = entry.Values.ToDictionary(v => v.Name.ToString(), v => v.Value.ToString());
            Assert.Equal(["data", "metadata"], fields.Keys);
            Assert.Equal(topic, System.Text.Json.JsonDocument.Parse(fields["data"]).RootElement.GetProperty("topic").GetString());
            Assert.Equal("t1", System.Text.Json.JsonDocument.Parse(fields["metadata"]).RootElement.GetProperty("tenant").GetString());
        }

        // A consumer group created after the publish still gets the message (XGROUP CREATE … 0), with the metadata as headers.
        await using var late = await PubSubRig.StartAsync(Unique("late"), resources,
            app => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "late"));
        var d = await late.App.NextAsync("late", "the message published before the group existed");
        Assert.Equal("t1", d.Headers["tenant"]);
    }
}
