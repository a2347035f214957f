using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapr;
using Dapr.Client;
using DaprGame.Testing.Servers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprGame.Sidecar.Tests.PubSub;

/// <summary>
/// What a Dapr.AspNetCore app sees when the official client publishes through the local sidecar: the CloudEvent,
/// the app's answers (SUCCESS/RETRY/DROP/errors) under resiliency, dead letters, routing rules and bulk publish.
/// Each case runs on <c>pubsub.in-memory</c> and <c>pubsub.redis</c>.
/// </summary>
public sealed class DeliveryConformanceTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly Dictionary<string, string> SequentialRedis = new() { ["concurrency"] = "1" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    [Theory]
    [InlineData("in-memory")]
    [InlineData("redis")]
    public async Task The_app_receives_daprs_cloud_event(string broker)
    {
        var topic = Unique("orders");
        await using var rig = await PubSubRig.StartAsync(Unique("ce"), PubSubRig.Resources(broker, redis),
            app => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "orders"));

        using var activity = new Activity("publish").SetIdFormat(ActivityIdFormat.W3C).Start();
        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Name = "ada", Qty = 3 }, Ct);
        activity.Stop();

        var d = await rig.App.NextAsync("orders", "the published event");
        var ce = d.CloudEvent;
        Assert.Equal("application/cloudevents+json", d.RawContentType);
        Assert.True(Guid.TryParse(ce.GetProperty("id").GetString(), out _), "id is a UUID");
        Assert.Equal(rig.Sidecar.Host.AppId, ce.GetProperty("source").GetString());
        Assert.Equal("com.dapr.event.sent", ce.GetProperty("type").GetString());
        Assert.Equal("1.0", ce.GetProperty("specversion").GetString());
        Assert.Equal("application/json", ce.GetProperty("datacontenttype").GetString());
        Assert.Equal("ada", ce.GetProperty("data").GetProperty("name").GetString());
        Assert.Equal(3, ce.GetProperty("data").GetProperty("qty").GetInt32());
        Assert.Equal(topic, ce.GetProperty("topic").GetString());
        Assert.Equal(PubSubRig.PubSubName, ce.GetProperty("pubsubname").GetString());
        var traceparent = ce.GetProperty("traceparent").GetString()!;
        Assert.Equal(activity.TraceId.ToHexString(), traceparent.Split('-')[1]);
        Assert.Equal(traceparent, ce.GetProperty("traceid").GetString());
        Assert.Equal(traceparent, d.Headers["traceparent"]);
        Assert.Equal(PubSubRig.PubSubName, d.Headers["pubsubName"]);
        Assert.True(DateTimeOffset.TryParseExact(ce.GetProperty("time").GetString(), ["yyyy-MM-dd'T'HH:mm:ssK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time), "time is RFC3339");
        Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        // What the handler reads after UseCloudEvents(): the data, as JSON.
        Assert.Equal("application/json", d.ContentType);
        Assert.Equal("""{"name":"ada","qty":3}""", d.BodyText);
    }

    [Theory]
    [InlineData("in-memory")]
    [InlineData("redis")]
    public async Task Raw_payload_reaches_a_raw_subscriber_as_the_published_bytes(string broker)
    {
        var raw = Unique("raw");
        var enveloped = Unique("env");
        await using var rig = await PubSubRig.StartAsync(Unique("raw"), PubSubRig.Resources(broker, redis), app =>
        {
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = raw, EnableRawPayload = true }, "raw");
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = enveloped }, "enveloped");
        });
        var bytes = Encoding.UTF8.GetBytes("""{"legacy":true}""");

        await rig.Sidecar.Client.PublishByteEventAsync(PubSubRig.PubSubName, raw, bytes, "application/json",
            new Dictionary<string, string> { ["rawPayload"] = "true" }, Ct);
        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, enveloped, new { Legacy = false }, Ct);

        var r = await rig.App.NextAsync("raw", "the raw payload");
        Assert.Equal("Dapr", r.CloudEvent.GetProperty("source").GetString());
        Assert.Equal("application/octet-stream", r.CloudEvent.GetProperty("datacontenttype").GetString());
        Assert.Equal(bytes, r.Body);

        var e = await rig.App.NextAsync("enveloped", "the enveloped event");
        Assert.Equal(rig.Sidecar.Host.AppId, e.CloudEvent.GetProperty("source").GetString());
        Assert.False(e.CloudEvent.GetProperty("data").GetProperty("legacy").GetBoolean());
    }

    [Theory]
    [InlineData("in-memory")]
    [InlineData("redis")]
    public async Task Retry_status_is_redelivered_under_the_inbound_retry_policy(string broker)
    {
        var topic = Unique("retry");
        await using var rig = await PubSubRig.StartAsync(Unique("retry"), PubSubRig.Resources(broker, redis, resiliency: PubSubRig.InboundRetries(3)),
            app => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "work",
                (_, attempt) => Task.FromResult(attempt == 1 ? Results.Ok(new { status = "RETRY" }) : Results.Ok(new { status = "SUCCESS" }))));

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { N = 1 }, Ct);

        var first = await rig.App.NextAsync("work", "the first attempt");
        var second = await rig.App.NextAsync("work", "the redelivery after RETRY");
        Assert.Equal(first.CloudEvent.GetProperty("id").GetString(), second.CloudEvent.GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("in-memory")]
    [InlineData("redis")]
    public async Task Drop_is_not_redelivered_and_goes_to_the_dead_letter_topic(string broker)
    {
        var topic = Unique("drop");
        var dead = Unique("dead");
        await using var rig = await PubSubRig.StartAsync(Unique("drop"), PubSubRig.Resources(broker, redis, SequentialRedis, PubSubRig.InboundRetries(3)), app =>
        {
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic, DeadLetterTopic = dead }, "work",
                (d, _) => Task.FromResult(d.BodyText.Contains("drop", StringComparison.Ordinal) ? Results.Ok(new { status = "DROP" }) : Results.Ok()));
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = dead }, "dead");
        });

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Kind = "drop" }, Ct);
        var dropped = await rig.App.NextAsync("work", "the dropped event");
        var lettered = await rig.App.NextAsync("dead", "the dropped event on the dead-letter topic");
        Assert.Equal(dropped.CloudEvent.GetProperty("id").GetString(), lettered.CloudEvent.GetProperty("id").GetString());

        // Deliveries on one subscription are sequential here, so once the next event arrives the drop is settled.
        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Kind = "keep" }, Ct);
        var next = await rig.App.NextAsync("work", "the event after the drop");
        Assert.Contains("keep", next.BodyText, StringComparison.Ordinal);
        Assert.Equal(2, rig.App.Count("work"));
    }

    [Theory]
    [InlineData("in-memory")]
    [InlineData("redis")]
    public async Task A_failing_handler_is_retried_per_policy_then_dead_lettered(string broker)
    {
        var topic = Unique("fail");
        var dead = Unique("dead");
        await using var rig = await PubSubRig.StartAsync(Unique("fail"), PubSubRig.Resources(broker, redis, resiliency: PubSubRig.InboundRetries(2)), app =>
        {
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic, DeadLetterTopic = dead }, "work",
                (_, _) => Task.FromResult(Results.StatusCode(500)));
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = dead }, "dead");
        });

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { N = 1 }, Ct);

        var lettered = await rig.App.NextAsync("dead", "the exhausted event on the dead-letter topic");
        Assert.Equal(topic, lettered.CloudEvent.GetProperty("topic").GetString());
        Assert.Equal(3, rig.App.Count("work"));
    }

    [Theory]
    [InlineData("in-memory")]
    [InlineData("redis")]
    public async Task Without_a_policy_a_failing_handler_gets_exactly_one_attempt(string broker)
    {
        var topic = Unique("once");
        await using var rig = await PubSubRig.StartAsync(Unique("once"), PubSubRig.Resources(broker, redis, SequentialRedis),
            app => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "work",
                (d, _) => Task.FromResult(d.BodyText.Contains("fail", StringComparison.Ordinal) ? Results.StatusCode(500) : Results.Ok())));

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Kind = "fail" }, Ct);
        await rig.App.NextAsync("work", "the failing event");
        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Kind = "ok" }, Ct);
        var next = await rig.App.NextAsync("work", "the event after the failure");

        Assert.Contains("ok", next.BodyText, StringComparison.Ordinal);
        Assert.Equal(2, rig.App.Count("work"));
    }

    [Theory]
    [InlineData("in-memory")]
    [InlineData("redis")]
    public async Task Bulk_publish_delivers_every_entry(string broker)
    {
        var topic = Unique("bulk");
        await using var rig = await PubSubRig.StartAsync(Unique("bulk"), PubSubRig.Resources(broker, redis),
            app => app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "items"));

        var items = Enumerable.Range(1, 5).Select(i => new Item(i)).ToList();
        var response = await rig.Sidecar.Client.BulkPublishEventAsync(PubSubRig.PubSubName, topic, items, cancellationToken: Ct);
        Assert.Empty(response.FailedEntries);
        // The second call goes to whichever bulk variant the SDK settled on.
        var again = await rig.Sidecar.Client.BulkPublishEventAsync(PubSubRig.PubSubName, topic, [new Item(6)], cancellationToken: Ct);
        Assert.Empty(again.FailedEntries);

        var seen = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            var d = await rig.App.NextAsync("items", $"bulk entry {i + 1} of 6");
            seen.Add(d.CloudEvent.GetProperty("data").GetProperty("n").GetInt32());
        }
        Assert.Equal([1, 2, 3, 4, 5, 6], seen.Order());
    }

    [Fact]
    public async Task Routing_rules_pick_the_path_in_order_and_fall_back_to_the_default()
    {
        var topic = "orders";
        await using var rig = await PubSubRig.StartAsync("router", PubSubRig.Resources("in-memory", redis), app =>
        {
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic }, "orders");
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic, Match = "event.type == \"important\"", Priority = 1 }, "important");
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = topic, Match = "event.data.size > 10 && has(event.data.kind)", Priority = 2 }, "big");
        });

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Size = 1, Kind = "a" },
            new Dictionary<string, string> { ["cloudevent.type"] = "important" }, Ct);
        await rig.App.NextAsync("important", "the event typed 'important'");

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Size = 20, Kind = "b" }, Ct);
        await rig.App.NextAsync("big", "the big event");

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { Size = 2, Kind = "c" }, Ct);
        var plain = await rig.App.NextAsync("orders", "the event for the default route");
        Assert.Equal("c", plain.CloudEvent.GetProperty("data").GetProperty("kind").GetString());
        Assert.Equal(1, rig.App.Count("important"));
        Assert.Equal(1, rig.App.Count("big"));
    }

    [Fact]
    public async Task Get_metadata_lists_the_subscriptions()
    {
        await using var rig = await PubSubRig.StartAsync("meta", PubSubRig.Resources("in-memory", redis), app =>
        {
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = "a", DeadLetterTopic = "a-dead" }, "a");
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = "b", EnableRawPayload = true }, "b");
            app.Subscribe(new TopicOptions { PubsubName = "nosuch", Name = "c" }, "c");
        });

        // DaprClient.GetMetadataAsync drops subscriptions, so read the GetMetadata response on the wire.
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(rig.Sidecar.Host.GrpcEndpoint);
        var metadata = await new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel)
            .GetMetadataAsync(new Dapr.Client.Autogen.Grpc.v1.GetMetadataRequest(), cancellationToken: Ct);

        var subs = metadata.Subscriptions.OrderBy(s => s.Topic).ToList();
        Assert.Equal(["a", "b"], subs.Select(s => s.Topic));
        Assert.All(subs, s => Assert.Equal(PubSubRig.PubSubName, s.PubsubName));
        Assert.Equal("a-dead", subs[0].DeadLetterTopic);
        Assert.Equal("true", subs[1].Metadata["rawPayload"]);
        Assert.Contains(subs[0].Rules.Rules, r => r.Path == "a");
    }

    [Fact]
    public async Task Publish_errors_use_daprds_codes()
    {
        await using var rig = await PubSubRig.StartAsync("errors", PubSubRig.Resources("in-memory", redis), _ => { });

        var notFound = await Assert.ThrowsAsync<DaprException>(() => rig.Sidecar.Client.PublishEventAsync("nosuch", "t", new { }, Ct));
        var rpc = Assert.IsType<Grpc.Core.RpcException>(notFound.InnerException);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, rpc.StatusCode);
        Assert.Equal("pubsub nosuch is not found", rpc.Status.Detail);

        using var http = new HttpClient();
        using var response = await http.PostAsync($"{rig.Sidecar.Host.HttpEndpoint}/v1.0/publish/nosuch/t", new StringContent("{}"), Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("ERR_PUBSUB_NOT_FOUND", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var ok = await http.PostAsync($"{rig.Sidecar.Host.HttpEndpoint}/v1.0/publish/{PubSubRig.PubSubName}/t?metadata.rawPayload=true", new StringContent("x"), Ct);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, ok.StatusCode);
    }

    [Fact]
    public async Task Bulk_subscribe_delivers_the_entries_envelope_and_honours_per_entry_statuses()
    {
        var topic = "bulk-in";
        await using var rig = await PubSubRig.StartAsync("bulksub", PubSubRig.Resources("in-memory", redis, resiliency: PubSubRig.InboundRetries(3)), app =>
            app.Map("batch", (d, attempt) =>
            {
                using var doc = System.Text.Json.JsonDocument.Parse(d.Body);
                var statuses = doc.RootElement.GetProperty("entries").EnumerateArray()
                    .Select(e => new { entryId = e.GetProperty("entryId").GetString(), status = attempt == 1 ? "RETRY" : "SUCCESS" })
                    .ToList();
                return Task.FromResult(Results.Ok(new { statuses }));
            })
            .WithTopic(PubSubRig.PubSubName, topic)
            .WithBulkSubscribe(new Dapr.AspNetCore.BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = 10, MaxAwaitDurationMs = 100 }));

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, topic, new { N = 1 }, Ct);

        var first = await rig.App.NextAsync("batch", "the bulk delivery");
        Assert.Equal("application/json", first.RawContentType);
        using var doc = System.Text.Json.JsonDocument.Parse(first.Body);
        Assert.Equal("com.dapr.event.sent.bulk", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal(topic, doc.RootElement.GetProperty("topic").GetString());
        var entry = Assert.Single(doc.RootElement.GetProperty("entries").EnumerateArray());
        Assert.Equal("application/cloudevents+json", entry.GetProperty("contentType").GetString());
        Assert.Equal(1, entry.GetProperty("event").GetProperty("data").GetProperty("n").GetInt32());
        await rig.App.NextAsync("batch", "the redelivery of the entry the app answered RETRY");
    }

    [Fact]
    public async Task A_declarative_subscription_is_delivered_and_listed()
    {
        var resources = PubSubRig.Resources("in-memory", redis);
        resources["subscription.yaml"] = $"""
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: declared
            spec:
              pubsubname: {PubSubRig.PubSubName}
              topic: declared-topic
              routes:
                rules:
                  - match: event.data.vip == true
                    path: /vip
                default: /declared
            """;
        await using var rig = await PubSubRig.StartAsync("declared", resources, app =>
        {
            app.Map("declared");
            app.Map("vip");
        });

        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, "declared-topic", new { Vip = true }, Ct);
        await rig.App.NextAsync("vip", "the event matching the declarative rule");
        await rig.Sidecar.Client.PublishEventAsync(PubSubRig.PubSubName, "declared-topic", new { Vip = false }, Ct);
        await rig.App.NextAsync("declared", "the event for the declarative default route");
        Assert.Contains(rig.Sidecar.Host.Runtime.Subscriptions, s => s.Topic == "declared-topic" && s.Type == "DECLARATIVE");
    }

    [Fact]
    public async Task A_routing_rule_outside_the_supported_cel_subset_fails_start_up_naming_it()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => PubSubRig.StartAsync("badrule", PubSubRig.Resources("in-memory", redis), app =>
        {
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = "t" }, "t");
            app.Subscribe(new TopicOptions { PubsubName = PubSubRig.PubSubName, Name = "t", Match = "event.type.startsWith('x')", Priority = 1 }, "x");
        }));
        Assert.Contains("event.type.startsWith('x')", error.Message, StringComparison.Ordinal);
    }

    private sealed record Item(int N);
}
