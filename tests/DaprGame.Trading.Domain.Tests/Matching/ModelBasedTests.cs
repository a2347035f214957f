using System.Text;
using DaprGame.Trading.Domain.MarketData;
using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.Tests.Matching;

/// <summary>
/// The engine against <see cref="ReferenceBook"/> on 10,000 seeded random command sequences: the same events in the
/// same order (fills, cancels, rejects, rests, depth changes, sequence numbers), the same book after every command,
/// never a crossed book, no fill above either order's remaining quantity, every accepted unit accounted for; and at
/// the end the journal replayed into a fresh book, the final export restored, and a snapshot taken halfway restored
/// and followed by the rest of the journal all reproduce <see cref="OrderBook.Hash"/>. A failure names the seed and
/// the shortest command list found that still fails.
/// </summary>
public sealed class ModelBasedTests
{
    private const int Sequences = 10_000;

    // Four facts over disjoint seed ranges, so xunit can spread them over the cores.
    [Fact]
    public void Engine_matches_the_reference_model_seeds_0_to_2499() => RunSeeds(0, Sequences / 4);

    [Fact]
    public void Engine_matches_the_reference_model_seeds_2500_to_4999() => RunSeeds(Sequences / 4, Sequences / 4);

    [Fact]
    public void Engine_matches_the_reference_model_seeds_5000_to_7499() => RunSeeds(Sequences / 2, Sequences / 4);

    [Fact]
    public void Engine_matches_the_reference_model_seeds_7500_to_9999() => RunSeeds(3 * Sequences / 4, Sequences / 4);

    [Fact]
    public void The_shrinker_reports_the_seed_and_a_short_failing_sequence()
    {
        // A deliberately wrong property (at most one order rests) shows what the shrinker makes of a long sequence.
        var (options, commands) = Generate(11);
        static void AtMostOneRests(BookOptions o, IReadOnlyList<BookCommand> cs)
        {
            var book = new OrderBook(o);
            var listener = new NullListener();
            foreach (var c in cs)
            {
                c.Apply(book, ref listener);
                Assert.True(book.OrderCount <= 1);
            }
        }
        var shortest = Shrink(options, commands, AtMostOneRests);
        Assert.NotNull(shortest);
        Assert.Equal(2, shortest.Count);
        Assert.All(shortest, c => Assert.IsType<SubmitCommand>(c));
    }

    private static void RunSeeds(int first, int count)
    {
        for (var seed = first; seed < first + count; seed++)
        {
            var (options, commands) = Generate(seed);
            try
            {
                Check(options, commands);
            }
            catch (Exception failure)
            {
                var shortest = Shrink(options, commands, Check) ?? commands;
                var report = new StringBuilder()
                    .AppendLine($"seed {seed} fails with {options}: {failure.Message}")
                    .AppendLine($"shortest failing sequence ({shortest.Count} of {commands.Count} commands):");
                foreach (var c in shortest)
                {
                    report.AppendLine("  " + c);
                }
                try
                {
                    Check(options, shortest);
                }
                catch (Exception shortFailure)
                {
                    report.AppendLine("which fails with: " + shortFailure.Message);
                }
                Assert.Fail(report.ToString());
            }
        }
    }

    /// <summary>Runs the commands through the engine and the model, checking everything the summary lists; throws on the first difference.</summary>
    internal static void Check(BookOptions options, IReadOnlyList<BookCommand> commands)
    {
        var book = new OrderBook(options);
        var model = new ReferenceBook(options);
        var ledger = new QuantityLedger();
        var mirror = new L2Mirror();
        mirror.ApplySnapshot(book.Snapshot(int.MaxValue));
        var half = commands.Count / 2;
        RestingOrder[] halfwayOrders = [];
        long halfwaySequence = 0;

        for (var i = 0; i < commands.Count; i++)
        {
            if (i == half)
            {
                halfwayOrders = book.ExportOrders();
                halfwaySequence = book.Sequence;
            }
            var command = commands[i];
            var recorder = new Recorder();
            var expected = new List<BookEvent>();
            var actualResult = command.Apply(book, ref recorder);
            var expectedResult = command.Apply(model, expected);
            var actual = recorder.Events;
            if (actualResult != expectedResult || !actual.SequenceEqual(expected))
            {
                throw new InvalidOperationException($"command {i} {command}: engine returned {actualResult} with\n    {string.Join("\n    ", actual)}\n"
                    + $"  model returned {expectedResult} with\n    {string.Join("\n    ", expected)}");
            }

            ledger.Apply(command, actualResult, actual);
            foreach (var e in actual)
            {
                var applied = e switch
                {
                    Filled f => mirror.ApplyTrade(f.Fill.Sequence),
                    DepthChanged d => mirror.Apply(d.Side, d.Price, d.Total, d.Sequence),
                    _ => true,
                };
                Require(applied, $"command {i} {command}: the L2 mirror saw a gap at {e}");
            }

            Require(book.BestBid == model.BestBid && book.BestAsk == model.BestAsk,
                $"command {i} {command}: best bid/ask {book.BestBid}/{book.BestAsk}, model {model.BestBid}/{model.BestAsk}");
            Require(book.BestBid == 0 || book.BestAsk == 0 || book.BestBid < book.BestAsk,
                $"command {i} {command}: crossed book, bid {book.BestBid} >= ask {book.BestAsk}");
            Require(book.Sequence == model.Sequence, $"command {i} {command}: sequence {book.Sequence}, model {model.Sequence}");
            Require(book.OrderCount == model.OrderCount && book.OrderCount == ledger.OpenCount,
                $"command {i} {command}: {book.OrderCount} resting, model {model.OrderCount}, ledger {ledger.OpenCount}");
        }

        var exported = book.ExportOrders();
        Require(exported.SequenceEqual(model.Orders()), "the resting orders differ from the model's:\n  "
            + string.Join("\n  ", exported) + "\nmodel:\n  " + string.Join("\n  ", model.Orders()));
        ledger.RequireResting(exported);

        var snapshot = book.Snapshot(int.MaxValue);
        Require(mirror.Sequence == book.Sequence, $"the mirror is at {mirror.Sequence}, the book at {book.Sequence}");
        Require(mirror.Levels(Side.Buy, int.MaxValue).SequenceEqual(snapshot.Bids.Select(l => new PriceLevel(l.Price, l.Quantity)))
            && mirror.Levels(Side.Sell, int.MaxValue).SequenceEqual(snapshot.Asks.Select(l => new PriceLevel(l.Price, l.Quantity))),
            "the L2 mirror built from increments differs from the snapshot");

        var replayed = new OrderBook(options);
        var ignore = new NullListener();
        foreach (var c in commands)
        {
            c.Apply(replayed, ref ignore);
        }
        Require(replayed.Hash() == book.Hash() && replayed.ExportOrders().SequenceEqual(exported), "replaying the journal gives another hash");

        var restored = OrderBook.Restore(options, exported, book.Sequence);
        Require(restored.Hash() == book.Hash() && restored.ExportOrders().SequenceEqual(exported), "restoring the export gives another hash");

        var resumed = OrderBook.Restore(options, halfwayOrders, halfwaySequence);
        foreach (var c in commands.Skip(half))
        {
            c.Apply(resumed, ref ignore);
        }
        Require(resumed.Hash() == book.Hash(), $"restoring the snapshot after command {half - 1} and replaying the rest gives another hash");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    /// <summary>
    /// Shortest failing sequence found: the shortest failing prefix, then commands removed one at a time while it
    /// still fails, until no single removal keeps it failing. Null when the whole sequence passes.
    /// </summary>
    internal static List<BookCommand>? Shrink(BookOptions options, IReadOnlyList<BookCommand> commands, Action<BookOptions, IReadOnlyList<BookCommand>> property)
    {
        bool Fails(IReadOnlyList<BookCommand> candidate)
        {
            try
            {
                property(options, candidate);
                return false;
            }
            catch (Exception)
            {
                return true;
            }
        }

        if (!Fails(commands))
        {
            return null;
        }
        var length = 1;
        while (!Fails(commands.Take(length).ToList()))
        {
            length++;
        }
        var current = commands.Take(length).ToList();
        bool removed;
        do
        {
            removed = false;
            for (var i = current.Count - 1; i >= 0; i--)
            {
                var candidate = new List<BookCommand>(current);
                candidate.RemoveAt(i);
                if (Fails(candidate))
                {
                    current = candidate;
                    removed = true;
                }
            }
        }
        while (removed);
        return current;
    }

    /// <summary>
    /// A random sequence from a seed. Most sequences use a narrow price band around 50, few quantities and few
    /// owners, so orders cross, levels stack and self-trade prevention triggers often; one in ten uses prices near
    /// long.MaxValue / 4, where larger quantities overflow. Some commands are invalid on purpose.
    /// </summary>
    internal static (BookOptions Options, List<BookCommand> Commands) Generate(int seed)
    {
        var random = new Random(seed);
        var huge = random.Next(10) == 0;
        var options = new BookOptions(
            SelfTradePrevention: (SelfTradePrevention)random.Next(3),
            MaxPrice: huge ? long.MaxValue : 100,
            MaxQuantity: huge ? BookOptions.QuantityLimit : 20,
            InitialCapacity: random.Next(4) == 0 ? 0 : 64);
        var mid = huge ? long.MaxValue / 4 : 50;
        var owners = random.Next(2) == 0 ? 3 : 6;
        var length = random.Next(1, 150);
        var commands = new List<BookCommand>(length);
        var issued = new List<(long Id, long Price, long Quantity)>();
        long nextId = 1;

        long Price() => random.Next(20) switch
        {
            0 => huge ? long.MaxValue - random.Next(3) : random.Next(-1, 2) + (random.Next(2) == 0 ? 0 : 100),
            _ => mid + random.Next(-6, 7),
        };
        long Quantity() => random.Next(25) switch
        {
            0 => random.Next(-1, 1),
            1 => options.MaxQuantity + random.Next(0, 2),
            _ => huge ? random.Next(1, 7) : random.Next(1, 11),
        };
        long Target()
        {
            if (issued.Count == 0 || random.Next(8) == 0)
            {
                return nextId + 1_000 + random.Next(10);
            }
            return issued[Math.Max(0, issued.Count - 1 - random.Next(12))].Id;
        }

        for (var i = 0; i < length; i++)
        {
            var roll = random.Next(100);
            if (roll < 58)
            {
                var id = random.Next(20) == 0 && issued.Count > 0 ? issued[random.Next(issued.Count)].Id : nextId++;
                var side = random.Next(60) == 0 ? (Side)2 : (Side)random.Next(2);
                var type = random.Next(60) == 0 ? (OrderType)9 : (OrderType)(random.Next(10) switch
                {
                    < 4 => 0,
                    < 6 => 1,
                    < 7 => 2,
                    < 8 => 3,
                    _ => 4,
                });
                var price = Price();
                if (type == OrderType.Market)
                {
                    price = side == Side.Sell && random.Next(3) == 0 ? 0 : mid + (side == Side.Buy ? 1 : -1) * random.Next(-3, 10);
                }
                var quantity = Quantity();
                commands.Add(new SubmitCommand(new NewOrder(id, random.Next(1, owners + 1), side, type, price, quantity)));
                issued.Add((id, price, quantity));
            }
            else if (roll < 78)
            {
                commands.Add(new CancelCommand(Target()));
            }
            else
            {
                var id = Target();
                var known = issued.FindLast(x => x.Id == id);
                if (known.Id == id && random.Next(2) == 0)
                {
                    // Often the same price and a smaller (or equal) size: the time-priority-keeping path.
                    commands.Add(new ReplaceCommand(id, known.Price, Math.Max(1, known.Quantity - random.Next(0, 4))));
                }
                else
                {
                    commands.Add(new ReplaceCommand(id, Price(), Quantity()));
                }
            }
        }
        return (options, commands);
    }

    /// <summary>
    /// Follows every order's open quantity through the events: a fill never exceeds what either side has left
    /// and never pairs an owner with itself, done flags match, and what is left is exactly what rests.
    /// </summary>
    private sealed class QuantityLedger
    {
        private readonly Dictionary<long, long> _open = [];

        public int OpenCount => _open.Count;

        public void Apply(BookCommand command, RejectReason result, List<BookEvent> events)
        {
            foreach (var e in events)
            {
                switch (e)
                {
                    case Accepted a:
                        Require(_open.TryAdd(a.Order.OrderId, a.Order.Quantity), $"{command}: accepted {a.Order.OrderId} while it is open");
                        break;
                    case Filled { Fill: var f }:
                        Require(f.Quantity > 0, $"{command}: empty fill {f}");
                        Require(f.MakerOwnerId != f.TakerOwnerId, $"{command}: self-trade {f}");
                        Require(f.Quantity <= _open[f.MakerOrderId] && f.Quantity <= _open[f.TakerOrderId], $"{command}: fill {f} exceeds what is left");
                        _open[f.MakerOrderId] -= f.Quantity;
                        _open[f.TakerOrderId] -= f.Quantity;
                        Require(f.MakerDone == (_open[f.MakerOrderId] == 0) && f.TakerDone == (_open[f.TakerOrderId] == 0), $"{command}: done flags of {f}");
                        if (f.MakerDone)
                        {
                            _open.Remove(f.MakerOrderId);
                        }
                        if (f.TakerDone)
                        {
                            _open.Remove(f.TakerOrderId);
                        }
                        break;
                    case Rested r:
                        Require(_open[r.OrderId] == r.Remaining, $"{command}: {r} but {_open[r.OrderId]} is open");
                        break;
                    case Cancelled c:
                        Require(_open[c.OrderId] == c.Remaining, $"{command}: {c} but {_open[c.OrderId]} is open");
                        _open.Remove(c.OrderId);
                        break;
                }
            }
            // A replace that keeps priority reduces the open quantity without any other event.
            if (command is ReplaceCommand replace && result == RejectReason.None && !events.Any(e => e is Cancelled))
            {
                Require(replace.Quantity <= _open[replace.OrderId], $"{command}: kept priority while growing");
                _open[replace.OrderId] = replace.Quantity;
            }
        }

        public void RequireResting(RestingOrder[] resting)
        {
            Require(resting.Length == _open.Count, $"{resting.Length} resting, {_open.Count} open in the ledger");
            foreach (var o in resting)
            {
                Require(_open.TryGetValue(o.OrderId, out var open) && open == o.Remaining, $"{o} rests, the ledger has {open}");
            }
        }
    }
}
