using System.Collections.Concurrent;
using System.Text.Json;
using Dapr;
using Dapr.AspNetCore;
using DaprGame.Sidecar.Hosting;
using DaprGame.Testing.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Sidecar.Tests.PubSub;

/// <summary>
/// Bulk subscribe as daprd's default bulk subscriber runs it: messages handed over by the component are collected
/// into batches of up to <c>maxMessagesCount</c>, flushed when full or when <c>maxAwaitDurationMs</c> has passed,
/// one request per batch; each entry's status decides its message, and a retry resends only the failed entries.
/// </summary>
public sealed class BulkSubscribeTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    // Redis Streams hands over up to `concurrency` messages at once (the in-memory broker one at a time, as daprd's),
    // so tests about what one batch holds run there.
    private static readonly Dictionary<string, string> Concurrent = new() { ["concurrency"] = "64" };

    [Fact]
    public async Task The_in_memory_broker_hands_bulk_messages_over_one_at_a_time_as_daprd_so_each_batch_holds_one()
    {
        var topic = Unique("single");
        await using var rig = await PubSubRig.StartAsync(Unique("single"), PubSubRig.Resources("in-memory", redis), app =>
            app.Map("batch", (d, _) => Task.FromResult(Answer(Entries(d).Select(e => (e.EntryId, (string?)"SUCCESS")))))
                .WithTopic(PubSubRig.PubSubName, topic)
                .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 50, MaxAwaitDurationMs = 20 }));

        var published = await rig.Sidecar.Client.BulkPublishEventAsync(PubSubRig.PubSubName, topic, Enumerable.Range(0, 3).Select(n => new Item(n)).ToList(), cancellationToken: Ct);
        Assert.Empty(published.FailedEntries);
        var seen = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            var entries = Entries(await rig.App.NextAsync("batch", $"batch {i + 1} of 3"));
            seen.AddRange(entries.Select(e => e.N));
            Assert.Single(entries);
        }
        Assert.Equal([0, 1, 2], seen);
    }

    [Fact]
    public async Task Messages_published_quickly_arrive_in_few_batches_of_at_most_maxMessagesCount_each_once()
    {
        const string broker = "redis";
        var topic = Unique("many");
        var requests = new List<int>();
        // Redis hands over at most `concurrency` messages at once; 64 lets a batch reach 50 there too.
        await using var rig = await PubSubRig.StartAsync(Unique("many"), PubSubRig.Resources(broker, redis, new() { ["concurrency"] = "64" }), app =>
            app.Map("batch", (d, _) => Task.FromResult(Answer(Entries(d).Select(e => (e.EntryId, (string?)"SUCCESS")))))
                .WithTopic(PubSubRig.PubSubName, topic)
                .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 50, MaxAwaitDurationMs = 200 }));

        const int count = 200;
        var published = await rig.Sidecar.Client.BulkPublishEventAsync(PubSubRig.PubSubName, topic, Enumerable.Range(0, count).Select(n => new Item(n)).ToList(), cancellationToken: Ct);
        Assert.Empty(published.FailedEntries);

        var seen = new List<int>();
        while (seen.Distinct().Count() < count)
        {
            var entries = Entries(await rig.App.NextAsync("batch", $"the batches carrying all {count} messages ({seen.Distinct().Count()} so far)"));
            requests.Add(entries.Count);
            seen.AddRange(entries.Select(e => e.N));
        }

        Assert.Equal(count, seen.Count);
        Assert.Equal(Enumerable.Range(0, count), seen.Order());
        Assert.All(requests, n => Assert.InRange(n, 1, 50));
        Assert.True(requests.Count <= 20, $"{count} messages took {requests.Count} requests: {string.Join(",", requests)}");
    }

    [Fact]
    public async Task Entries_of_one_batch_go_to_their_routes_in_one_request_per_path()
    {
        var topic = Unique("routed");
        await using var rig = await PubSubRig.StartAsync(Unique("routed"), PubSubRig.Resources("redis", redis, Concurrent), app =>
        {
            app.Map("batch", (d, _) => Task.FromResult(Answer(Entries(d).Select(e => (e.EntryId, (string?)"SUCCESS")))))
                .WithTopic(PubSubRig.PubSubName, topic)
                .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 10, MaxAwaitDurationMs = 300 });
            app.Map("big", (d, _) => Task.FromResult(Answer(Entries(d).Select(e => (e.EntryId, (string?)"SUCCESS")))))
                .WithTopic(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic, Match = "event.data.n > 5", Priority = 1 });
        });

        var published = await rig.Sidecar.Client.BulkPublishEventAsync(PubSubRig.PubSubName, topic, Enumerable.Range(0, 10).Select(n => new Item(n)).ToList(), cancellationToken: Ct);
        Assert.Empty(published.FailedEntries);

        var small = new List<int>();
        while (small.Count < 6)
        {
            small.AddRange(Entries(await rig.App.NextAsync("batch", "the entries for the default route")).Select(e => e.N));
        }
        var big = new List<int>();
        while (big.Count < 4)
        {
            big.AddRange(Entries(await rig.App.NextAsync("big", "the entries matching the rule")).Select(e => e.N));
        }
        Assert.Equal([0, 1, 2, 3, 4, 5], small.Order());
        Assert.Equal([6, 7, 8, 9], big.Order());
        Assert.True(rig.App.Count("batch") + rig.App.Count("big") < 10, "the batch was sent as one request per path, not per message");
    }

    [Fact]
    public async Task A_lone_message_is_flushed_when_maxAwaitDurationMs_has_passed_on_the_sidecars_clock()
    {
        var topic = Unique("lone");
        var clock = new ArmedClock(TimeSpan.FromMilliseconds(750));
        await using var rig = await PubSubRig.StartAsync(Unique("lone"), PubSubRig.Resources("in-memory", redis), app =>
            app.Map("batch", (d, _) => Task.FromResult(Answer(Entries(d).Select(e => (e.EntryId, (string?)"SUCCESS")))))
                .WithTopic(PubSubRig.PubSubName, topic)
                .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 10, MaxAwaitDurationMs = 750 }),
            environment: new SidecarEnvironment { Time = clock });

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new Item(1), Ct);
        // The batcher arms its deadline when the batch gets its first message.
        await clock.Armed.WaitAsync(TimeSpan.FromSeconds(15), Ct);

        clock.Advance(TimeSpan.FromMilliseconds(749));
        Assert.Equal(0, rig.App.Count("batch"));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var d = await rig.App.NextAsync("batch", "the lone message once 750 ms passed on the sidecar's clock");
        Assert.Equal(1, Assert.Single(Entries(d)).N);
    }

    [Fact]
    public async Task Per_entry_statuses_settle_each_message_and_a_retry_resends_only_the_failed_entries()
    {
        var topic = Unique("mixed");
        var dead = Unique("dead");
        // n % 4: 0 SUCCESS, 1 RETRY, 2 no status, 3 DROP; the second time an entry comes, SUCCESS.
        var attempts = new ConcurrentDictionary<int, int>();
        var requests = new ConcurrentQueue<(int N, bool Resent)[]>();
        await using var rig = await PubSubRig.StartAsync(Unique("mixed"), PubSubRig.Resources("redis", redis, Concurrent, resiliency: PubSubRig.InboundRetries(1)), app =>
        {
            app.Map("batch", (d, _) =>
            {
                var entries = Entries(d);
                var request = new List<(int, bool)>();
                var statuses = new List<(string, string?)>();
                foreach (var (entryId, n) in entries)
                {
                    var first = attempts.AddOrUpdate(n, 1, (_, a) => a + 1) == 1;
                    request.Add((n, !first));
                    switch (first ? n % 4 : 0)
                    {
                        case 0:
                            statuses.Add((entryId, "SUCCESS"));
                            break;
                        case 1:
                            statuses.Add((entryId, "RETRY"));
                            break;
                        case 3:
                            statuses.Add((entryId, "DROP"));
                            break;
                    }
                }
                requests.Enqueue([.. request]);
                return Task.FromResult(Answer(statuses));
            })
            .WithTopic(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic, DeadLetterTopic = dead })
            .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 8, MaxAwaitDurationMs = 300 });
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = dead }, "dead");
        });

        var published = await rig.Sidecar.Client.BulkPublishEventAsync(PubSubRig.PubSubName, topic, Enumerable.Range(0, 8).Select(n => new Item(n)).ToList(), cancellationToken: Ct);
        Assert.Empty(published.FailedEntries);

        int[] retried = [1, 2, 5, 6];
        // Counted from the requests read here: the app records a request before its handler runs.
        var received = new Dictionary<int, int>();
        while (!Enumerable.Range(0, 8).All(n => received.GetValueOrDefault(n) >= (retried.Contains(n) ? 2 : 1)))
        {
            foreach (var (_, n) in Entries(await rig.App.NextAsync("batch", "the batch and the resend of its failed entries")))
            {
                received[n] = received.GetValueOrDefault(n) + 1;
            }
        }
        var letters = new List<int>();
        for (var i = 0; i < 2; i++)
        {
            letters.Add((await rig.App.NextAsync("dead", $"dropped entry {i + 1} of 2 on the dead-letter topic")).CloudEvent.GetProperty("data").GetProperty("n").GetInt32());
        }
        // One batch at a time per subscription: once a later message's batch arrives, the first one is settled.
        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new Item(100), Ct);
        while (!Entries(await rig.App.NextAsync("batch", "the batch of the message published afterwards")).Any(e => e.N == 100))
        {
        }

        Assert.Equal([3, 7], letters.Order());
        foreach (var n in Enumerable.Range(0, 8))
        {
            Assert.True(attempts[n] == (retried.Contains(n) ? 2 : 1), $"entry {n} was sent {attempts[n]} time(s)");
        }
        // A request that resent an entry carried only entries that had failed, and nothing new.
        var resends = requests.Where(r => r.Any(e => e.Resent)).ToList();
        Assert.NotEmpty(resends);
        Assert.All(resends, r => Assert.All(r, e => Assert.True(e.Resent && retried.Contains(e.N), $"entry {e.N} in a resend")));
        Assert.False(rig.App.TryTake("dead", out _), "only the DROP entries are dead-lettered");
    }

    [Fact]
    public async Task A_404_drops_the_whole_batch_without_a_retry_or_a_dead_letter()
    {
        var topic = Unique("gone");
        var dead = Unique("dead");
        await using var rig = await PubSubRig.StartAsync(Unique("gone"), PubSubRig.Resources("redis", redis, Concurrent, resiliency: PubSubRig.InboundRetries(3)), app =>
        {
            app.Map("batch", (d, _) =>
            {
                var entries = Entries(d);
                return Task.FromResult(entries.Any(e => e.N == 1) ? Results.NotFound() : Answer(entries.Select(e => (e.EntryId, (string?)"SUCCESS"))));
            })
            .WithTopic(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic, DeadLetterTopic = dead })
            .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 10, MaxAwaitDurationMs = 100 });
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = dead }, "dead");
        });

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new Item(1), Ct);
        await rig.App.NextAsync("batch", "the batch the app answers 404");
        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new Item(2), Ct);
        var next = await rig.App.NextAsync("batch", "the next batch");

        Assert.Equal(2, Assert.Single(Entries(next)).N);
        Assert.Equal(2, rig.App.Count("batch"));
        Assert.Equal(0, rig.App.Count("dead"));
    }

    [Fact]
    public async Task A_500_resends_every_entry_of_the_batch_with_the_same_entry_ids()
    {
        var topic = Unique("err");
        await using var rig = await PubSubRig.StartAsync(Unique("err"), PubSubRig.Resources("redis", redis, Concurrent, resiliency: PubSubRig.InboundRetries(2)), app =>
            app.Map("batch", (d, attempt) => Task.FromResult(attempt == 1
                    ? Results.StatusCode(500)
                    : Answer(Entries(d).Select(e => (e.EntryId, (string?)"SUCCESS")))))
                .WithTopic(PubSubRig.PubSubName, topic)
                .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 3, MaxAwaitDurationMs = 500 }));

        var published = await rig.Sidecar.Client.BulkPublishEventAsync(PubSubRig.PubSubName, topic, new List<Item> { new(1), new(2), new(3) }, cancellationToken: Ct);
        Assert.Empty(published.FailedEntries);

        var first = Entries(await rig.App.NextAsync("batch", "the batch the app fails with 500"));
        var second = Entries(await rig.App.NextAsync("batch", "the resend of the whole batch"));
        Assert.Equal(first.Select(e => e.EntryId).Order(), second.Select(e => e.EntryId).Order());
        Assert.Equal(first.Select(e => e.N).Order(), second.Select(e => e.N).Order());
    }

    [Fact]
    public async Task On_redis_streams_batches_gather_what_the_concurrency_workers_hand_over()
    {
        var topic = Unique("streams");
        var requests = new List<int>();
        await using var rig = await PubSubRig.StartAsync(Unique("streams"), PubSubRig.Resources("redis", redis), app =>
            app.Map("batch", (d, _) => Task.FromResult(Answer(Entries(d).Select(e => (e.EntryId, (string?)"SUCCESS")))))
            .WithTopic(PubSubRig.PubSubName, topic)
            .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 50, MaxAwaitDurationMs = 300 }));

        const int count = 40;
        var published = await rig.Sidecar.Client.BulkPublishEventAsync(PubSubRig.PubSubName, topic, Enumerable.Range(0, count).Select(n => new Item(n)).ToList(), cancellationToken: Ct);
        Assert.Empty(published.FailedEntries);

        var seen = new List<int>();
        while (seen.Distinct().Count() < count)
        {
            var entries = Entries(await rig.App.NextAsync("batch", $"the batches carrying all {count} messages"));
            requests.Add(entries.Count);
            seen.AddRange(entries.Select(e => e.N));
        }

        Assert.Equal(Enumerable.Range(0, count), seen.Order());
        // Each handler call waits for its batch, so a batch holds at most `concurrency` (default 10) messages, as under daprd.
        Assert.All(requests, n => Assert.InRange(n, 1, 10));
        Assert.Contains(requests, n => n > 1);
    }

    private static List<(string EntryId, int N)> Entries(Delivery d)
    {
        using var doc = JsonDocument.Parse(d.Body);
        return [.. doc.RootElement.GetProperty("entries").EnumerateArray()
            .Select(e => (e.GetProperty("entryId").GetString()!, e.GetProperty("event").GetProperty("data").GetProperty("n").GetInt32()))];
    }

    private static IResult Answer(IEnumerable<(string EntryId, string? Status)> statuses) =>
        Results.Ok(new { statuses = statuses.Select(s => new { entryId = s.EntryId, status = s.Status }) });

    private sealed record Item(int N);

    /// <summary>A fake clock that signals when a timer of <paramref name="due"/> is created (the batch's deadline).</summary>
    private sealed class ArmedClock(TimeSpan due) : TimeProvider
    {
        private readonly FakeTimeProvider _inner = new(DateTimeOffset.UtcNow);
        private readonly TaskCompletionSource _armed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Armed => _armed.Task;

        public void Advance(TimeSpan by) => _inner.Advance(by);

        public override DateTimeOffset GetUtcNow() => _inner.GetUtcNow();

        public override long GetTimestamp() => _inner.GetTimestamp();

        public override long TimestampFrequency => _inner.TimestampFrequency;

        public override TimeZoneInfo LocalTimeZone => _inner.LocalTimeZone;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = _inner.CreateTimer(callback, state, dueTime, period);
            if (dueTime == due)
            {
                _armed.TrySetResult();
            }
            return timer;
        }
    }
}
