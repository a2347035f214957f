using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using DaprGame.Sidecar.Components;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DaprGame.Sidecar.PubSub;

/// <summary>
/// <c>pubsub.redis</c> on Redis Streams, with the layout and semantics of Dapr's component (shared/dapr-contract.md §4.7,
/// §3.5) so that a real daprd can share the streams: one stream per topic, entries <c>data</c> (the CloudEvent or raw
/// bytes) and <c>metadata</c> (publish metadata as JSON), one consumer group per <c>consumerID</c> created at ID 0,
/// <c>concurrency</c> workers, and a reclaim loop that redelivers entries pending longer than <c>processingTimeout</c>.
/// Like Dapr 1.17+, a message is acknowledged after the handler even when the handler failed (resiliency and dead
/// letters already ran in the delivery path); only a delivery cut short by shutdown stays pending for reclaim.
/// </summary>
public sealed class RedisStreamsPubSub : IPubSub
{
    /// <summary>
    /// StackExchange.Redis multiplexes one connection and cannot issue a blocking <c>XREADGROUP … BLOCK</c>, so an idle
    /// reader polls. This is a stand-in for the server-side block (which returns as soon as data arrives), hence real
    /// time rather than the sidecar's clock: a test that fakes time must not stop the broker.
    /// </summary>
    private static readonly TimeSpan IdlePollInterval = TimeSpan.FromMilliseconds(25);

    private static readonly HashSet<string> Refused = new(StringComparer.OrdinalIgnoreCase) { "failover", "sentinelMasterName", "redisType" };

    private readonly ComponentSpec _spec;
    private readonly ComponentContext _context;
    private readonly ILogger _log;
    private ConnectionMultiplexer? _redis;

    public RedisStreamsPubSub(ComponentSpec spec, ComponentContext context)
    {
        _spec = spec;
        _context = context;
        _log = context.Logging.CreateLogger<RedisStreamsPubSub>();
    }

    public IReadOnlyList<string> Features { get; } = [];

    /// <summary>How long a delivered entry may stay unacknowledged before another consumer claims it (default 60 s).</summary>
    public TimeSpan ProcessingTimeout { get; private set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often pending entries are checked for reclaim (default 15 s); zero turns reclaim off.</summary>
    public TimeSpan RedeliverInterval { get; private set; } = TimeSpan.FromSeconds(15);

    public int QueueDepth { get; private set; } = 100;

    /// <summary>
    /// Handler calls in flight per subscription (default 10, as Dapr's component). A bulk subscription's handler call
    /// waits for its batch to be answered, so its batches hold at most this many messages: daprd's default bulk
    /// subscriber gets exactly the same from this component (see PubSub/README.md).
    /// </summary>
    public int Concurrency { get; private set; } = 10;

    public long? MaxLenApprox { get; private set; }

    public TimeSpan? StreamTtl { get; private set; }

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        foreach (var key in Refused)
        {
            if (_spec.Get(key) is { Length: > 0 } value && !(key == "redisType" && value == "node") && !(key == "failover" && value == "false"))
            {
                throw new NotSupportedException($"metadata '{key}: {value}' is not implemented by the local sidecar's pubsub.redis (single node only)");
            }
        }
        var host = _spec.Get("redisHost") is { Length: > 0 } h ? h : throw new InvalidOperationException("redisHost is required");
        ProcessingTimeout = MillisOrDuration("processingTimeout") ?? ProcessingTimeout;
        if (_spec.Get("redeliverInterval") is { Length: > 0 } redeliver)
        {
            if (long.TryParse(redeliver, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
            {
                RedeliverInterval = TimeSpan.FromMilliseconds(ms);
            }
            else
            {
                // Dapr's component only decodes a bare number (milliseconds) here and silently keeps its default otherwise.
                _log.LogWarning("{Component}: redeliverInterval '{Value}' is not a number of milliseconds; Dapr ignores it and uses {Default}", _spec.Name, redeliver, RedeliverInterval);
            }
        }
        QueueDepth = Int("queueDepth") ?? QueueDepth;
        Concurrency = Int("concurrency") ?? Concurrency;
        MaxLenApprox = _spec.Get("maxLenApprox") is { Length: > 0 } max ? long.Parse(max, CultureInfo.InvariantCulture) : null;
        StreamTtl = MillisOrDuration("streamTTL");
        if (QueueDepth <= 0 || Concurrency <= 0)
        {
            throw new InvalidOperationException("queueDepth and concurrency must be positive");
        }

        var options = ConfigurationOptions.Parse(host);
        options.Password = _spec.Get("redisPassword") is { Length: > 0 } password ? password : options.Password;
        options.User = _spec.Get("redisUsername") is { Length: > 0 } user ? user : options.User;
        options.DefaultDatabase = Int("redisDB") ?? 0;
        options.Ssl = _spec.GetBool("enableTLS");
        options.AbortOnConnectFail = true;
        options.ClientName = $"daprgame-{_context.Options.AppId}-{_context.Options.InstanceId}";
        _redis = await ConnectionMultiplexer.ConnectAsync(options);
        await _redis.GetDatabase().PingAsync();
    }

    public async Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        var args = new List<object>(10) { (RedisKey)message.Topic };
        if (MaxLenApprox is { } max)
        {
            args.AddRange(["MAXLEN", "~", max]);
        }
        if (StreamTtl is { } ttl)
        {
            var minId = (_context.Time.GetUtcNow() - ttl).ToUnixTimeMilliseconds();
            args.AddRange(["MINID", "~", minId]);
        }
        args.AddRange(["*", "data", message.Data]);
        if (message.Metadata.Count > 0)
        {
            args.AddRange(["metadata", JsonSerializer.Serialize(message.Metadata)]);
        }
        await Database.ExecuteAsync("XADD", args).WaitAsync(cancellationToken);
    }

    public async Task<IAsyncDisposable> SubscribeAsync(SubscribeRequest request, MessageHandler handler, CancellationToken cancellationToken)
    {
        await EnsureGroupAsync(request.Topic, request.ConsumerGroup);
        var subscription = new Subscription(this, request, handler);
        subscription.Start();
        return subscription;
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is { } redis)
        {
            _redis = null;
            await redis.CloseAsync();
            redis.Dispose();
        }
    }

    private IDatabase Database => _redis?.GetDatabase() ?? throw new InvalidOperationException($"{_spec.Name} is not connected");

    /// <summary><c>XGROUP CREATE topic group 0 MKSTREAM</c>: a new group reads the whole stream, as in Dapr.</summary>
    private async Task EnsureGroupAsync(string topic, string group)
    {
        try
        {
            await Database.StreamCreateConsumerGroupAsync(topic, group, "0", createStream: true);
        }
        catch (RedisServerException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    private TimeSpan? MillisOrDuration(string key) =>
        _spec.Get(key) is not { Length: > 0 } text ? null
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms)
        : DurationParser.Parse(text);

    private int? Int(string key) =>
        _spec.Get(key) is { Length: > 0 } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;

    private static PubSubMessage ToMessage(string topic, StreamEntry entry)
    {
        byte[] data = [];
        IReadOnlyDictionary<string, string> metadata = EmptyMetadata;
        foreach (var field in entry.Values)
        {
            if (field.Name == "data")
            {
                data = (byte[]?)field.Value ?? [];
            }
            else if (field.Name == "metadata" && field.Value.HasValue)
            {
                metadata = JsonSerializer.Deserialize<Dictionary<string, string>>((string)field.Value!) ?? EmptyMetadata;
            }
        }
        return new PubSubMessage(topic, data, null, metadata);
    }

    private static readonly Dictionary<string, string> EmptyMetadata = new(StringComparer.Ordinal);

    /// <summary>One consumer on one topic: a reader, a reclaimer, and at most <c>concurrency</c> handlers in flight.</summary>
    private sealed class Subscription(RedisStreamsPubSub owner, SubscribeRequest request, MessageHandler handler) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _workers = new(owner.Concurrency, owner.Concurrency);
        private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
        private Task _reader = Task.CompletedTask;
        private Task _reclaimer = Task.CompletedTask;

        public void Start()
        {
            _reader = Task.Run(ReadLoopAsync);
            if (owner.RedeliverInterval > TimeSpan.Zero && owner.ProcessingTimeout > TimeSpan.Zero)
            {
                _reclaimer = Task.Run(ReclaimLoopAsync);
            }
        }

        private async Task ReadLoopAsync()
        {
            var token = _stop.Token;
            while (!token.IsCancellationRequested)
            {
                StreamEntry[] entries;
                try
                {
                    entries = await owner.Database.StreamReadGroupAsync(request.Topic, request.ConsumerGroup, request.ConsumerName, StreamPosition.NewMessages, owner.QueueDepth);
                }
                catch (RedisServerException e) when (e.Message.Contains("NOGROUP", StringComparison.Ordinal))
                {
                    // The stream was deleted under us: recreate it and the group, as Dapr's component does.
                    await owner.EnsureGroupAsync(request.Topic, request.ConsumerGroup);
                    continue;
                }
                catch (Exception e) when (!token.IsCancellationRequested && e is RedisException or InvalidOperationException)
                {
                    owner._log.LogError("{Component}: reading topic {Topic} failed: {Error}", owner._spec.Name, request.Topic, e.Message);
                    await DelayAsync(TimeSpan.FromSeconds(1), token);
                    continue;
                }
                if (entries.Length == 0)
                {
                    await DelayAsync(IdlePollInterval, token);
                    continue;
                }
                if (!await DispatchAsync(entries, token))
                {
                    return;
                }
            }
        }

        /// <summary>Every <c>redeliverInterval</c>: claim entries idle for <c>processingTimeout</c> (any consumer's) and redeliver them.</summary>
        private async Task ReclaimLoopAsync()
        {
            var token = _stop.Token;
            using var timer = new PeriodicTimer(owner.RedeliverInterval, owner._context.Time);
            try
            {
                while (await timer.WaitForNextTickAsync(token))
                {
                    RedisValue start = "0-0";
                    do
                    {
                        StreamAutoClaimResult result;
                        try
                        {
                            result = await owner.Database.StreamAutoClaimAsync(
                                request.Topic, request.ConsumerGroup, request.ConsumerName, (long)owner.ProcessingTimeout.TotalMilliseconds, start, owner.QueueDepth);
                        }
                        catch (Exception e) when (!token.IsCancellationRequested && e is RedisException or InvalidOperationException)
                        {
                            owner._log.LogWarning("{Component}: reclaiming pending messages on {Topic} failed: {Error}", owner._spec.Name, request.Topic, e.Message);
                            break;
                        }
                        // Entries trimmed from the stream come back without fields: nothing to redeliver, so acknowledge them.
                        var live = new List<StreamEntry>(result.ClaimedEntries.Length);
                        foreach (var entry in result.ClaimedEntries)
                        {
                            if (entry.IsNull || entry.Values is null || entry.Values.Length == 0)
                            {
                                await owner.Database.StreamAcknowledgeAsync(request.Topic, request.ConsumerGroup, entry.Id);
                            }
                            else
                            {
                                live.Add(entry);
                            }
                        }
                        if (live.Count > 0)
                        {
                            owner._log.LogInformation("{Component}: redelivering {Count} message(s) pending longer than {Timeout} on {Topic}", owner._spec.Name, live.Count, owner.ProcessingTimeout, request.Topic);
                            if (!await DispatchAsync(live, token))
                            {
                                return;
                            }
                        }
                        start = result.NextStartId;
                    }
                    while (start != "0-0" && !token.IsCancellationRequested);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
        }

        private async Task<bool> DispatchAsync(IEnumerable<StreamEntry> entries, CancellationToken token)
        {
            foreach (var entry in entries)
            {
                try
                {
                    await _workers.WaitAsync(token);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
                var task = HandleAsync(entry, token);
                _inFlight.TryAdd(task, 0);
                _ = task.ContinueWith(t => _inFlight.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            return true;
        }

        private async Task HandleAsync(StreamEntry entry, CancellationToken token)
        {
            try
            {
                await Task.Yield();
                try
                {
                    await handler(ToMessage(request.Topic, entry), token);
                }
                catch (Exception) when (token.IsCancellationRequested)
                {
                    // Shutdown: leave the entry pending so a consumer of the same group reclaims it.
                    return;
                }
                catch (Exception e)
                {
                    owner._log.LogError("{Component}: error processing message {Id} on {Topic}, acknowledging it (Dapr 1.17+ behaviour): {Error}", owner._spec.Name, entry.Id, request.Topic, e.Message);
                }
                await owner.Database.StreamAcknowledgeAsync(request.Topic, request.ConsumerGroup, entry.Id);
            }
            catch (Exception e)
            {
                owner._log.LogError("{Component}: acknowledging message {Id} on {Topic} failed: {Error}", owner._spec.Name, entry.Id, request.Topic, e.Message);
            }
            finally
            {
                _workers.Release();
            }
        }

        private static async Task DelayAsync(TimeSpan delay, CancellationToken token)
        {
            try
            {
                await Task.Delay(delay, token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _reader;
            await _reclaimer;
            await Task.WhenAll(_inFlight.Keys);
            _stop.Dispose();
            _workers.Dispose();
        }
    }
}
