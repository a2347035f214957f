namespace DaprGame.Sidecar.PubSub;

/// <summary>A message as it travels through a broker: the bytes published (usually a CloudEvent) and the publish metadata.</summary>
public sealed record PubSubMessage(string Topic, byte[] Data, string? ContentType, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Handles one delivered message. Returning acknowledges it; throwing reports a failure, and the component then does
/// what its Dapr counterpart does (in-memory: logs it; Redis Streams: acknowledges unless the sidecar is stopping).
/// </summary>
public delegate Task MessageHandler(PubSubMessage message, CancellationToken cancellationToken);

/// <summary>
/// Who is consuming: <paramref name="ConsumerGroup"/> is the component's <c>consumerID</c> (the app-id unless set), so
/// replicas of one app-id compete and different app-ids each get every message; <paramref name="ConsumerName"/> is
/// unique per sidecar instance. <paramref name="BulkMaxMessagesCount"/> is the subscription's bulk
/// <c>maxMessagesCount</c> (0 when it is not a bulk subscription), as daprd hands its <c>BulkSubscribeConfig</c> to the
/// component in <c>SubscribeRequest</c>: a component may use it to hand over enough messages at once for a batch to form.
/// </summary>
public sealed record SubscribeRequest(string Topic, string ConsumerGroup, string ConsumerName, int BulkMaxMessagesCount = 0);

/// <summary>A Dapr pub/sub component.</summary>
public interface IPubSub : IAsyncDisposable
{
    IReadOnlyList<string> Features { get; }

    Task InitAsync(CancellationToken cancellationToken);

    Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken);

    /// <summary>Starts delivering; disposing the result stops it.</summary>
    Task<IAsyncDisposable> SubscribeAsync(SubscribeRequest request, MessageHandler handler, CancellationToken cancellationToken);
}
