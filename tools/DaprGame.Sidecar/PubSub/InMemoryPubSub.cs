using System.Collections.Concurrent;
using System.Threading.Channels;
using DaprGame.Sidecar.Components;
using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.PubSub;

/// <summary>
/// <c>pubsub.in-memory</c>: private to one sidecar, as in Dapr. Each consumer group gets every message; consumers in
/// one group compete. Deliveries run one at a time per subscription; a failed handler is logged and the message is
/// not redelivered by the component (retries come from resiliency, in the delivery path).
/// </summary>
public sealed class InMemoryPubSub(ComponentSpec spec, ComponentContext context) : IPubSub
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Channel<PubSubMessage>>> _topics = new(StringComparer.Ordinal);
    private readonly ILogger _log = context.Logging.CreateLogger<InMemoryPubSub>();

    public IReadOnlyList<string> Features { get; } = [];

    public Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        if (_topics.TryGetValue(message.Topic, out var groups))
        {
            foreach (var group in groups.Values)
            {
                group.Writer.TryWrite(message);
            }
        }
        return Task.CompletedTask;
    }

    public Task<IAsyncDisposable> SubscribeAsync(SubscribeRequest request, MessageHandler handler, CancellationToken cancellationToken)
    {
        var groups = _topics.GetOrAdd(request.Topic, _ => new(StringComparer.Ordinal));
        var channel = groups.GetOrAdd(request.ConsumerGroup, _ => Channel.CreateUnbounded<PubSubMessage>(new UnboundedChannelOptions { SingleWriter = false }));
        var stop = new CancellationTokenSource();
        var loop = Task.Run(async () =>
        {
            try
            {
                await foreach (var message in channel.Reader.ReadAllAsync(stop.Token))
                {
                    try
                    {
                        await handler(message, stop.Token);
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
        }, CancellationToken.None);
        return Task.FromResult<IAsyncDisposable>(new Subscription(stop, loop));
    }

    public ValueTask DisposeAsync()
    {
        foreach (var groups in _topics.Values)
        {
            foreach (var channel in groups.Values)
            {
                channel.Writer.TryComplete();
            }
        }
        return ValueTask.CompletedTask;
    }

    private sealed class Subscription(CancellationTokenSource stop, Task loop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await loop;
            stop.Dispose();
        }
    }
}
