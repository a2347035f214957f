using System.Threading.Channels;

namespace DaprGame.Sidecar.PubSub;

/// <summary>How one message's delivery ended.</summary>
internal enum DeliveryOutcome
{
    /// <summary>The app took it (or, for a bulk request answered 404, dropped it without a dead letter, as daprd).</summary>
    Success,

    /// <summary>The app answered DROP, or it is undeliverable for good: dead-lettered when the subscription has a topic for it.</summary>
    Drop,

    /// <summary>Retriable and out of retries: dead-lettered if possible, else the component is told it failed.</summary>
    Retry,
}

/// <summary>One message waiting in a bulk batch: what goes into its entry, and where its caller waits for the verdict.</summary>
internal sealed class BulkEntry(PubSubMessage message, byte[] eventBytes, string path, string? traceparent, long enqueuedAt)
{
    private readonly TaskCompletionSource<(DeliveryOutcome, string?)> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>daprd gives each message of the default bulk subscriber a new UUID; it stays the same across retries.</summary>
    public string EntryId { get; } = Guid.NewGuid().ToString();

    public PubSubMessage Message => message;

    /// <summary>The CloudEvent as delivered (for a raw-payload subscription, the one wrapped around the bytes).</summary>
    public byte[] EventBytes => eventBytes;

    /// <summary>The route the message matched: entries of one batch are sent per path, one request each.</summary>
    public string Path => path;

    public string? Traceparent => traceparent;

    /// <summary>When the entry was handed over (<see cref="TimeProvider.GetTimestamp"/>): a batch waits at most maxAwaitDurationMs from its first.</summary>
    public long EnqueuedAt => enqueuedAt;

    public Task<(DeliveryOutcome Outcome, string? Error)> Result => _result.Task;

    public void Complete(DeliveryOutcome outcome, string? error) => _result.TrySetResult((outcome, error));

    public void Cancel() => _result.TrySetCanceled();
}

/// <summary>
/// daprd's default bulk subscriber (<c>pkg/runtime/pubsub/default_bulksub.go</c>, used for every component without
/// native bulk support, which includes <c>pubsub.in-memory</c> and <c>pubsub.redis</c>): each component handler call
/// puts its message into a buffer of <c>maxMessagesCount</c> and blocks until that message's batch is answered; one
/// loop collects the messages and flushes a batch when it holds <c>maxMessagesCount</c> entries or when the await
/// duration has passed, and waits for the flush before it collects the next, so one batch per subscription is at the
/// app at a time. The verdict of each entry goes back to its caller, which returns it to the component.
/// <para>
/// One difference: daprd flushes on a free-running ticker of <c>maxAwaitDurationMs</c> (so a message waits anywhere up
/// to that long), whereas here the deadline runs from the batch's first message, so a batch always gets the whole
/// window to fill and no message waits longer than under daprd. Time is the sidecar's <see cref="TimeProvider"/>.
/// </para>
/// </summary>
internal sealed class BulkBatcher : IAsyncDisposable
{
    private readonly Channel<BulkEntry> _incoming;
    private readonly Func<List<BulkEntry>, CancellationToken, Task> _flush;
    private readonly TimeProvider _time;
    private readonly int _maxCount;
    private readonly TimeSpan _maxAwait;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="flush">Delivers one batch and completes every entry; it must not throw.</param>
    public BulkBatcher(BulkSubscribeOptions options, TimeProvider time, Func<List<BulkEntry>, CancellationToken, Task> flush)
    {
        _maxCount = options.MaxMessagesCount;
        _maxAwait = TimeSpan.FromMilliseconds(options.MaxAwaitDurationMs);
        _time = time;
        _flush = flush;
        // As daprd's msgCbChan: room for one batch while the previous one is flushed; further callers wait their turn.
        _incoming = Channel.CreateBounded<BulkEntry>(new BoundedChannelOptions(_maxCount)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Joins the current batch and waits for this message's verdict.</summary>
    public async Task<(DeliveryOutcome Outcome, string? Error)> SubmitAsync(PubSubMessage message, byte[] eventBytes, string path, string? traceparent, CancellationToken cancellationToken)
    {
        var entry = new BulkEntry(message, eventBytes, path, traceparent, _time.GetTimestamp());
        await _incoming.Writer.WriteAsync(entry, cancellationToken);
        return await entry.Result.WaitAsync(cancellationToken);
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        var reader = _incoming.Reader;
        var batch = new List<BulkEntry>(_maxCount);
        try
        {
            while (await reader.WaitToReadAsync(token))
            {
                while (batch.Count < _maxCount && reader.TryRead(out var entry))
                {
                    batch.Add(entry);
                }
                var wait = _maxAwait - _time.GetElapsedTime(batch[0].EnqueuedAt);
                if (batch.Count < _maxCount && wait > TimeSpan.Zero)
                {
                    using var deadline = new CancellationTokenSource(wait, _time);
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, deadline.Token);
                    try
                    {
                        while (batch.Count < _maxCount && await reader.WaitToReadAsync(linked.Token))
                        {
                            while (batch.Count < _maxCount && reader.TryRead(out var entry))
                            {
                                batch.Add(entry);
                            }
                        }
                    }
                    catch (OperationCanceledException) when (deadline.IsCancellationRequested && !token.IsCancellationRequested)
                    {
                    }
                }
                await _flush(batch, token);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        // Stopping: nothing collected is delivered any more (daprd's final flush runs on a cancelled context and fails
        // every entry); the callers are told, and the component keeps or drops the messages as it does on shutdown.
        foreach (var entry in batch)
        {
            entry.Cancel();
        }
        while (reader.TryRead(out var left))
        {
            left.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _incoming.Writer.TryComplete();
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
