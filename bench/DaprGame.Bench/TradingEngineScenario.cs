using System.Diagnostics;
using System.Globalization;
using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Bench;

/// <summary>
/// Scenario <c>trading-engine</c>: the matching engine on one thread, on a seeded stream of one million commands
/// (passive adds around the book's mid price, cancels of live orders, crossing limit orders, 10% market orders,
/// some immediate-or-cancel) that ends by cancelling whatever rests, so every pass starts from an empty book and
/// repeats exactly. The peer, measured in the same run on the same commands, is a conventional book built on
/// <see cref="SortedDictionary{TKey,TValue}"/> and <see cref="LinkedList{T}"/>; both must produce the same fills.
/// </summary>
internal static class TradingEngineScenario
{
    private const int Commands = 1_000_000;
    private const int Seed = 20261130;

    // One command in 64 is timed on its own (two timestamps around it); timing every command would add about as
    // much as the command itself costs. Throughput includes that sampling (about 1/64 of a timestamp pair per command).
    private const int SampleEvery = 64;

    public static Task<BenchReport> RunAsync(BenchOptions options)
    {
        var report = new BenchReport("trading-engine", options);
        var stream = CommandStream.Generate(Seed, Commands);

        // Agreement first: one pass each on fresh books must give the same fills, in the same order.
        // Default options, as the actor uses them: pools grow to the book's size during warm-up. Sizing them up front
        // for 65,536 orders made the id map 2 MB instead of 512 KB and doubled the median command time (cache misses).
        var engine = new OrderBook(new BookOptions());
        var peer = new SortedDictionaryBook();
        var engineCheck = RunEngine(engine, stream.Commands, TimeSpan.Zero, null);
        var peerCheck = RunPeer(peer, stream.Commands, TimeSpan.Zero, null);
        var agree = engineCheck.Fills == peerCheck.Fills && engineCheck.Checksum == peerCheck.Checksum;

        // Warm-up: tiered compilation and PGO settle, the engine's pools reach their steady size.
        RunEngine(engine, stream.Commands, TimeSpan.FromSeconds(2), null);
        RunPeer(peer, stream.Commands, TimeSpan.FromSeconds(2), null);

        var engineRuns = new List<LoadResult>();
        var peerRuns = new List<LoadResult>();
        var engineAllocated = new List<long>();
        long engineCommands = 0;
        var samples = new long[1 << 20];
        for (var run = 0; run < options.Runs; run++)
        {
            var e = RunEngine(engine, stream.Commands, options.Duration, samples);
            engineRuns.Add(e.ToLoadResult(samples));
            engineAllocated.Add(e.AllocatedBytes);
            engineCommands += e.Commands;
            var p = RunPeer(peer, stream.Commands, options.Duration, samples);
            peerRuns.Add(p.ToLoadResult(samples));
        }

        var operation = "order book command (mixed)";
        var engineRow = BenchReport.Median(operation, "engine", "1 thread", engineRuns);
        var peerRow = BenchReport.Median(operation, "peer", "1 thread", peerRuns);
        report.Rows.Add(engineRow);
        report.Rows.Add(peerRow);

        var totalAllocated = engineAllocated.Sum();
        report.Comparisons.Add(new BenchComparison("engine: commands/s", engineRow.Throughput, "cmd/s", ">= 3000000", engineRow.Throughput >= 3_000_000));
        report.Comparisons.Add(new BenchComparison($"engine: allocated bytes per command ({totalAllocated} B over {engineCommands} commands)",
            engineCommands == 0 ? double.NaN : (double)totalAllocated / engineCommands, "B", "0", totalAllocated == 0));
        report.Comparisons.Add(new BenchComparison("engine / peer throughput", engineRow.Throughput / peerRow.Throughput, "ratio", "", null));
        report.Comparisons.Add(new BenchComparison("engine: p50 per command (sampled 1 in 64)", engineRow.P50Ms * 1e6, "ns", "", null));
        report.Comparisons.Add(new BenchComparison("engine: p99 per command (sampled 1 in 64)", engineRow.P99Ms * 1e6, "ns", "", null));
        report.Comparisons.Add(new BenchComparison("engine: p99.9 per command (sampled 1 in 64)", engineRow.P999Ms * 1e6, "ns", "", null));
        report.Comparisons.Add(new BenchComparison("peer: p50 per command (sampled 1 in 64)", peerRow.P50Ms * 1e6, "ns", "", null));
        report.Comparisons.Add(new BenchComparison("peer: p99 per command (sampled 1 in 64)", peerRow.P99Ms * 1e6, "ns", "", null));

        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"stream: {Commands:N0} commands per pass (seed {Seed}): {stream.Mix}; about {stream.AverageResting:N0} orders resting on average, " +
            $"{stream.AverageLevels:N0} levels per side; {engineCheck.Fills:N0} fills per pass"));
        report.Notes.Add(agree
            ? $"engine and peer agree: {engineCheck.Fills:N0} fills per pass with the same checksum"
            : $"engine and peer DISAGREE: engine {engineCheck.Fills} fills ({engineCheck.Checksum:x}), peer {peerCheck.Fills} fills ({peerCheck.Checksum:x})");
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"latency: one command in {SampleEvery} timed alone; a timestamp pair with nothing between costs {TimestampOverheadNs():0} ns here and is included"));
        report.Notes.Add("allocation: GC.GetAllocatedBytesForCurrentThread over each measured run, after warm-up; B/op in the table is rounded down");
        return Task.FromResult(report);
    }

    private static PassResult RunEngine(OrderBook book, Command[] commands, TimeSpan duration, long[]? samples)
    {
        var listener = new CountingListener();
        var sampleCount = 0;
        long done = 0;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        var until = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        do
        {
            for (var i = 0; i < commands.Length; i++)
            {
                ref readonly var c = ref commands[i];
                if (samples is not null && (i & (SampleEvery - 1)) == 0 && sampleCount < samples.Length)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    Execute(book, in c, ref listener);
                    samples[sampleCount++] = Stopwatch.GetTimestamp() - t0;
                }
                else
                {
                    Execute(book, in c, ref listener);
                }
            }
            done += commands.Length;
        }
        while (Stopwatch.GetTimestamp() < until);
        var elapsed = Stopwatch.GetTimestamp() - start;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return new PassResult(done, elapsed, allocated, sampleCount, listener.Fills, listener.Checksum);
    }

    private static void Execute(OrderBook book, in Command c, ref CountingListener listener)
    {
        if (c.Kind == CommandKind.Cancel)
        {
            book.Cancel(c.Order.OrderId, ref listener);
        }
        else
        {
            book.Submit(in c.Order, ref listener);
        }
    }

    private static PassResult RunPeer(SortedDictionaryBook book, Command[] commands, TimeSpan duration, long[]? samples)
    {
        book.ResetCounters();
        var sampleCount = 0;
        long done = 0;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        var until = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        do
        {
            for (var i = 0; i < commands.Length; i++)
            {
                ref readonly var c = ref commands[i];
                if (samples is not null && (i & (SampleEvery - 1)) == 0 && sampleCount < samples.Length)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    book.Execute(in c);
                    samples[sampleCount++] = Stopwatch.GetTimestamp() - t0;
                }
                else
                {
                    book.Execute(in c);
                }
            }
            done += commands.Length;
        }
        while (Stopwatch.GetTimestamp() < until);
        var elapsed = Stopwatch.GetTimestamp() - start;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return new PassResult(done, elapsed, allocated, sampleCount, book.Fills, book.Checksum);
    }

    private static double TimestampOverheadNs()
    {
        var best = long.MaxValue;
        for (var i = 0; i < 100_000; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            best = Math.Min(best, Stopwatch.GetTimestamp() - t0);
        }
        return best * 1e9 / Stopwatch.Frequency;
    }

    private readonly record struct PassResult(long Commands, long ElapsedTicks, long AllocatedBytes, int Samples, long Fills, ulong Checksum)
    {
        public LoadResult ToLoadResult(long[] samples)
        {
            var recorder = new LatencyRecorder();
            for (var i = 0; i < Samples; i++)
            {
                recorder.Record(0, samples[i]);
            }
            var seconds = ElapsedTicks / (double)Stopwatch.Frequency;
            return new LoadResult(Commands / seconds, recorder.Summarize(), 0, AllocatedBytes / Commands);
        }
    }

    /// <summary>Counts fills and folds them into an order-sensitive checksum, so engine and peer can be compared.</summary>
    private struct CountingListener : IBookListener
    {
        public long Fills;
        public ulong Checksum;

        public readonly void OnAccepted(in NewOrder order)
        {
        }

        public readonly void OnRejected(in NewOrder order, RejectReason reason)
        {
        }

        public void OnFill(in Fill fill)
        {
            Fills++;
            Checksum = FillChecksum.Add(Checksum, fill.MakerOrderId, fill.TakerOrderId, fill.Price, fill.Quantity);
        }

        public readonly void OnRested(long orderId, Side side, long price, long remaining)
        {
        }

        public readonly void OnCancelled(long orderId, long ownerId, Side side, long price, long remaining, CancelReason reason)
        {
        }

        public readonly void OnDepthChanged(Side side, long price, long totalQuantityAtLevel, long sequence)
        {
        }
    }
}

internal static class FillChecksum
{
    public static ulong Add(ulong checksum, long maker, long taker, long price, long quantity) =>
        (checksum * 0x100000001B3UL) ^ (ulong)(maker * 31 + taker) ^ ((ulong)price << 20) ^ (ulong)quantity;
}

internal enum CommandKind : byte
{
    Submit,
    Cancel,
}

/// <summary>A submit, or a cancel of <c>Order.OrderId</c>. Fields, not properties, so the order is passed to the book by reference.</summary>
internal readonly struct Command(CommandKind kind, NewOrder order)
{
    public readonly CommandKind Kind = kind;
    public readonly NewOrder Order = order;
}

/// <summary>The seeded command stream and what it looked like while it was generated.</summary>
internal sealed record CommandStream(Command[] Commands, string Mix, double AverageResting, double AverageLevels)
{
    private const long StartMid = 10_000;

    // A busy instrument: adds outpace cancels and fills, so above this many resting orders half the adds become
    // cancels, which holds the book near this size instead of letting it grow for the whole pass.
    private const int TargetResting = 10_000;

    /// <summary>
    /// Generates the stream by running it through an engine as it goes, so cancels name orders that are live and
    /// prices follow the book's own mid. The last commands cancel every order still resting.
    /// </summary>
    public static CommandStream Generate(int seed, int count)
    {
        var random = new Random(seed);
        var book = new OrderBook(new BookOptions(InitialCapacity: 1 << 16));
        var tracker = new LiveOrders();
        var commands = new List<Command>(count + 64 * 1024);
        var kinds = new int[6];
        long nextId = 1;
        var mid = StartMid;
        double restingSum = 0, levelSum = 0;

        void Submit(NewOrder order)
        {
            commands.Add(new Command(CommandKind.Submit, order));
            book.Submit(in order, ref tracker);
        }

        long Offset(double mean) => 1 + (long)Math.Min(300, -Math.Log(1 - random.NextDouble()) * mean);
        long Quantity() => Offset(10);

        while (commands.Count < count)
        {
            if (book.BestBid > 0 && book.BestAsk > 0)
            {
                mid = (book.BestBid + book.BestAsk) / 2;
            }
            var owner = random.Next(1, 1001);
            var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
            var sign = side == Side.Buy ? 1 : -1;
            var roll = random.Next(100);
            if (roll < 48 && tracker.Count > TargetResting && random.Next(2) == 0)
            {
                roll = 48;
            }
            if (roll < 48 || tracker.Count == 0)
            {
                // A passive add: below the mid for a buy, above it for a sell, most of them close to it.
                kinds[0]++;
                Submit(new NewOrder(nextId++, owner, side, OrderType.Limit, Math.Max(1, mid - sign * Offset(12)), Quantity()));
            }
            else if (roll < 78)
            {
                kinds[1]++;
                var id = tracker.Random(random);
                commands.Add(new Command(CommandKind.Cancel, new NewOrder(id, 0, Side.Buy, OrderType.Limit, 0, 0)));
                book.Cancel(id, ref tracker);
            }
            else if (roll < 86)
            {
                // A limit order priced through the mid: takes the top levels, may rest what is left.
                kinds[2]++;
                Submit(new NewOrder(nextId++, owner, side, OrderType.Limit, Math.Max(1, mid + sign * random.Next(0, 4)), Quantity() * 2));
            }
            else if (roll < 96)
            {
                kinds[3]++;
                var protection = side == Side.Buy ? mid + 50 : random.Next(4) == 0 ? 0 : Math.Max(1, mid - 50);
                Submit(new NewOrder(nextId++, owner, side, OrderType.Market, protection, Quantity()));
            }
            else
            {
                kinds[4]++;
                Submit(new NewOrder(nextId++, owner, side, OrderType.ImmediateOrCancel, Math.Max(1, mid + sign * random.Next(0, 3)), Quantity()));
            }
            restingSum += book.OrderCount;
            levelSum += (book.LevelCount(Side.Buy) + book.LevelCount(Side.Sell)) / 2.0;
        }

        var generated = commands.Count;
        foreach (var id in tracker.All())
        {
            kinds[5]++;
            commands.Add(new Command(CommandKind.Cancel, new NewOrder(id, 0, Side.Buy, OrderType.Limit, 0, 0)));
            book.Cancel(id, ref tracker);
        }
        if (book.OrderCount != 0)
        {
            throw new InvalidOperationException("the generated stream does not leave the book empty");
        }
        var total = (double)commands.Count;
        var mix = string.Create(CultureInfo.InvariantCulture,
            $"{kinds[0] / total:P0} passive limit, {kinds[1] / total:P0} cancel, {kinds[2] / total:P0} crossing limit, " +
            $"{kinds[3] / total:P0} market, {kinds[4] / total:P0} IOC, then {kinds[5]:N0} closing cancels");
        return new CommandStream([.. commands], mix, restingSum / generated, levelSum / generated);
    }

    /// <summary>Tracks which ids rest, with O(1) random pick and removal (generation only).</summary>
    private struct LiveOrders : IBookListener
    {
        private List<long>? _ids;
        private Dictionary<long, int>? _index;

        public readonly int Count => _ids?.Count ?? 0;

        public readonly long Random(Random random) => _ids![random.Next(_ids.Count)];

        public readonly long[] All() => [.. _ids ?? []];

        public readonly void OnAccepted(in NewOrder order)
        {
        }

        public readonly void OnRejected(in NewOrder order, RejectReason reason)
        {
        }

        public void OnFill(in Fill fill)
        {
            if (fill.MakerDone)
            {
                Remove(fill.MakerOrderId);
            }
        }

        public void OnRested(long orderId, Side side, long price, long remaining)
        {
            _ids ??= [];
            _index ??= [];
            _index[orderId] = _ids.Count;
            _ids.Add(orderId);
        }

        public void OnCancelled(long orderId, long ownerId, Side side, long price, long remaining, CancelReason reason) => Remove(orderId);

        public readonly void OnDepthChanged(Side side, long price, long totalQuantityAtLevel, long sequence)
        {
        }

        private readonly void Remove(long id)
        {
            if (_index is null || !_index.Remove(id, out var at))
            {
                return;
            }
            var last = _ids![^1];
            _ids.RemoveAt(_ids.Count - 1);
            if (last != id)
            {
                _ids[at] = last;
                _index[last] = at;
            }
        }
    }
}

/// <summary>
/// The peer: an order book as it is commonly written in C#, one <see cref="SortedDictionary{TKey,TValue}"/> of
/// <see cref="LinkedList{T}"/> queues per side and a <see cref="Dictionary{TKey,TValue}"/> of orders by id. It
/// implements what the stream uses (limit, market with protection price, immediate-or-cancel, cancel,
/// self-trade prevention that cancels the incoming order) with the engine's rules, so both give the same fills.
/// </summary>
internal sealed class SortedDictionaryBook
{
    private readonly SortedDictionary<long, LinkedList<PeerOrder>> _bids = new(Comparer<long>.Create((a, b) => b.CompareTo(a)));
    private readonly SortedDictionary<long, LinkedList<PeerOrder>> _asks = new();
    private readonly Dictionary<long, LinkedListNode<PeerOrder>> _orders = [];

    public long Fills { get; private set; }

    public ulong Checksum { get; private set; }

    public void ResetCounters()
    {
        Fills = 0;
        Checksum = 0;
    }

    public void Execute(in Command command)
    {
        if (command.Kind == CommandKind.Cancel)
        {
            Cancel(command.Order.OrderId);
        }
        else
        {
            Submit(command.Order);
        }
    }

    private void Submit(NewOrder order)
    {
        if (_orders.ContainsKey(order.OrderId))
        {
            return;
        }
        var opposite = order.Side == Side.Buy ? _asks : _bids;
        bool Crosses(long price) => order.Side == Side.Buy ? price <= order.Price : price >= order.Price;
        if (order.Type == OrderType.Market && (opposite.Count == 0 || !Crosses(opposite.First().Key)))
        {
            return;
        }

        var remaining = order.Quantity;
        var selfTrade = false;
        while (remaining > 0 && opposite.Count > 0)
        {
            var (price, queue) = opposite.First();
            if (!Crosses(price))
            {
                break;
            }
            while (remaining > 0 && queue.First is { } node)
            {
                var maker = node.Value;
                if (maker.Owner == order.OwnerId)
                {
                    selfTrade = true;
                    break;
                }
                var quantity = Math.Min(remaining, maker.Remaining);
                maker.Remaining -= quantity;
                remaining -= quantity;
                Fills++;
                Checksum = FillChecksum.Add(Checksum, maker.Id, order.OrderId, price, quantity);
                if (maker.Remaining == 0)
                {
                    queue.RemoveFirst();
                    _orders.Remove(maker.Id);
                }
            }
            if (queue.Count == 0)
            {
                opposite.Remove(price);
            }
            if (selfTrade)
            {
                break;
            }
        }

        if (remaining > 0 && !selfTrade && order.Type == OrderType.Limit)
        {
            var own = order.Side == Side.Buy ? _bids : _asks;
            if (!own.TryGetValue(order.Price, out var level))
            {
                level = new LinkedList<PeerOrder>();
                own.Add(order.Price, level);
            }
            _orders.Add(order.OrderId, level.AddLast(new PeerOrder(order.OrderId, order.OwnerId, order.Side, order.Price, remaining)));
        }
    }

    private void Cancel(long orderId)
    {
        if (!_orders.Remove(orderId, out var node))
        {
            return;
        }
        var order = node.Value;
        var levels = order.Side == Side.Buy ? _bids : _asks;
        var queue = levels[order.Price];
        queue.Remove(node);
        if (queue.Count == 0)
        {
            levels.Remove(order.Price);
        }
    }

    private sealed class PeerOrder(long id, long owner, Side side, long price, long remaining)
    {
        public long Id { get; } = id;

        public long Owner { get; } = owner;

        public Side Side { get; } = side;

        public long Price { get; } = price;

        public long Remaining { get; set; } = remaining;
    }
}
