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
/// A bulk subscription is the exception: its messages are handed over concurrently, in order, up to
/// <see cref="BulkHandoffFactor"/> × <c>maxMessagesCount</c> in flight, so that the delivery's batcher can fill a batch
/// while the previous one is at the app. This is a deliberate difference from daprd. Verified in components-contrib
/// <c>pubsub/in-memory/in-memory.go</c> and <c>common/eventbus/event_bus.go</c>: the component subscribes with
/// <c>SubscribeAsync(topic, handler, transactional: true)</c>, and <c>Publish</c> takes the handler's lock before it
/// starts the goroutine, so at most one handler call per subscription is in flight (and the publisher waits for the
/// previous one). daprd's default bulk subscriber blocks each handler call until its batch is answered, so under real
/// daprd an in-memory bulk subscription gets batches of one message, each waiting for the subscriber's flush ticker
/// (up to <c>maxAwaitDurationMs</c>). Handing messages over one at a time here would make every bulk delivery wait
/// out the whole <c>maxAwaitDurationMs</c> for a batch of one; set <see cref="BulkHandoffFactor"/> to 0 for daprd's
/// one-at-a-time handoff.
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

    /// <summary>
    /// Messages of a bulk subscription in flight at once, per <c>maxMessagesCount</c>: one batch at the app and the
    /// next one filling, as daprd's default bulk subscriber buffers (its channel holds <c>maxMessagesCount</c> messages
    /// next to the batch being flushed). 0 hands bulk messages over one at a time, as daprd's in-memory component does.
    /// </summary>
    internal const int BulkHandoffFactor = 2;

    public Task<IAsyncDisposable> SubscribeAsync(SubscribeRequest request, MessageHandler handler, CancellationToken cancellationToken)
    {
        var channel = _broker.Group(request.Topic, request.ConsumerGroup);
        var stop = new CancellationTokenSource();
        var inFlight = request.BulkMaxMessagesCount * BulkHandoffFactor;
        var loop = inFlight > 1
            ? Task.Run(() => HandOverConcurrentlyAsync(channel, request, handler, inFlight, stop.Token), CancellationToken.None)
            : Task.Run(() => DeliverOneAtATimeAsync(channel, request, handler, stop.Token), CancellationToken.None);
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

    /// <summary>
    /// The bulk subscription's reader: each message is handed to the handler as soon as it is read (the handler's
    /// synchronous part runs here, so messages join the batcher in broker order), and the next is read without waiting
    /// for the answer, up to <paramref name="limit"/> handler calls in flight.
    /// </summary>
    private async Task HandOverConcurrentlyAsync(Channel<PubSubMessage> channel, SubscribeRequest request, MessageHandler handler, int limit, CancellationToken stop)
    {
        var slots = new SemaphoreSlim(limit, limit);
        try
        {
            await foreach (var message in channel.Reader.ReadAllAsync(stop))
            {
                await slots.WaitAsync(stop);
                _ = HandleOneAsync(message);
            }
        }
        catch (OperationCanceledException)
        {
        }
        // Drain: every call in flight gives its slot back when it ends.
        for (var i = 0; i < limit; i++)
        {
            await slots.WaitAsync(CancellationToken.None);
        }
        slots.Dispose();

        async Task HandleOneAsync(PubSubMessage message)
        {
            try
            {
                await handler(message, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                _log.LogWarning("{Component}: delivery of a message on topic {Topic} failed and is not redelivered: {Error}", spec.Name, request.Topic, e.Message);
            }
            finally
            {
                slots.Release();
            }
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
