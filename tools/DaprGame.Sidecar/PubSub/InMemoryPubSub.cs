using System.Collections.Concurrent;
using System.Threading.Channels;
using DaprGame.Sidecar.Components;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.PubSub;

/// <summary>
/// The topics of an in-memory broker: each consumer group of a topic gets every message; consumers in one group
/// compete. Nothing survives the process.
/// </summary>
public sealed class InMemoryBroker
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Channel<PubSubMessage>>> _topics = new(StringComparer.Ordinal);

    internal void Publish(PubSubMessage message)
    {
        if (_topics.TryGetValue(message.Topic, out var groups))
        {
            foreach (var group in groups.Values)
            {
                group.Writer.TryWrite(message);
            }
        }
    }

    internal Channel<PubSubMessage> Group(string topic, string group) =>
        _topics.GetOrAdd(topic, _ => new(StringComparer.Ordinal))
            .GetOrAdd(group, _ => Channel.CreateUnbounded<PubSubMessage>(new UnboundedChannelOptions { SingleWriter = false }));

    internal void Complete()
    {
        foreach (var groups in _topics.Values)
        {
            foreach (var channel in groups.Values)
            {
                channel.Writer.TryComplete();
            }
        }
    }
}

/// <summary>
/// <c>pubsub.in-memory</c>: private to one sidecar, as in Dapr, unless the sidecar's environment shares one
/// <see cref="InMemoryBroker"/> among the sidecars of one process (the local launcher does). Deliveries run one at a
/// time per subscription; a failed handler is logged and the message is not redelivered by the component (retries
/// come from resiliency, in the delivery path).
/// <para>
/// Bulk subscriptions too, as in daprd (components-contrib <c>pubsub/in-memory/in-memory.go</c> and
/// <c>common/eventbus/event_bus.go</c>: <c>SubscribeAsync(topic, handler, transactional: true)</c>, so at most one
/// handler call per subscription is in flight). daprd's default bulk subscriber blocks each handler call until its batch
/// is answered, so an in-memory bulk subscription gets batches of one message, each flushed when
/// <c>maxAwaitDurationMs</c> has passed — slow, and exactly what daprd does; brokers that hand over several messages at
/// once (Redis Streams' <c>concurrency</c>) get real batches.
/// </para>
/// </summary>
public sealed class InMemoryPubSub(ComponentSpec spec, ComponentContext context) : IPubSub
{
    private readonly InMemoryBroker _broker = context.SharedInMemoryBroker ?? new InMemoryBroker();
    private readonly bool _ownsBroker = context.SharedInMemoryBroker is null;
    private readonly List<Subscription> _subscriptions = [];
    private readonly ILogger _log = context.Logging.CreateLogger<InMemoryPubSub>();

    public IReadOnlyList<string> Features { get; } = [];

    public Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        _broker.Publish(message);
        return Task.CompletedTask;
    }

    public Task<IAsyncDisposable> SubscribeAsync(SubscribeRequest request, MessageHandler handler, CancellationToken cancellationToken)
    {
        var channel = _broker.Group(request.Topic, request.ConsumerGroup);
        var stop = new CancellationTokenSource();
        var loop = Task.Run(() => DeliverOneAtATimeAsync(channel, request, handler, stop.Token), CancellationToken.None);
        var subscription = new Subscription(stop, loop);
        lock (_subscriptions)
        {
            _subscriptions.Add(subscription);
        }
        return Task.FromResult<IAsyncDisposable>(subscription);
    }

    private async Task DeliverOneAtATimeAsync(Channel<PubSubMessage> channel, SubscribeRequest request, MessageHandler handler, CancellationToken stop)
    {
        try
        {
            await foreach (var message in channel.Reader.ReadAllAsync(stop))
            {
                try
                {
                    await handler(message, stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    _log.LogWarning("{Component}: delivery of a message on topic {Topic} failed and is not redelivered: {Error}", spec.Name, request.Topic, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsBroker)
        {
            _broker.Complete();
        }
        Subscription[] subscriptions;
        lock (_subscriptions)
        {
            subscriptions = [.. _subscriptions];
        }
        // A shared broker outlives this sidecar: its subscriptions must stop reading, or they would take messages
        // meant for the consumers that remain.
        foreach (var s in subscriptions)
        {
            await s.DisposeAsync();
        }
    }

    private sealed class Subscription(CancellationTokenSource stop, Task loop) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
            await stop.CancelAsync();
            await loop;
            stop.Dispose();
        }
    }
}
