using System.Collections.Immutable;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests;

/// <summary>
/// Random operation sequences against one log and its views: batches mixing new events, redeliveries (also of rolled-back
/// events) and conflicting copies, view snapshots and restores, rollbacks to random positions. After every operation:
/// the chain verifies; every delivered event is in the log exactly once and no conflicting copy is; per-stream versions
/// run 1..n; flags match the sequences seen before; incremental views equal a rebuild from the log, and equal the views
/// of a fresh log holding only the intended history (a model that a rollback resets to what it was at P); a restored
/// snapshot caught up equals the live views. Seeded: a failure names its seed.
/// </summary>
public sealed class LogPropertyTests
{
    private const int Sequences = 2_000;
    private const int OperationsPerSequence = 16;

    [Fact]
    public void Invariants_hold_through_random_appends_redeliveries_snapshots_and_rollbacks()
    {
        var rollbacks = 0;
        var duplicates = 0;
        var conflicts = 0;
        for (var seed = 1; seed <= Sequences; seed++)
        {
            var run = new Run(seed);
            run.Execute();
            rollbacks += run.Rollbacks;
            duplicates += run.Duplicates;
            conflicts += run.Conflicts;
        }
        Assert.True(rollbacks > Sequences, $"only {rollbacks} rollbacks");
        Assert.True(duplicates > Sequences, $"only {duplicates} duplicates");
        Assert.True(conflicts > Sequences / 2, $"only {conflicts} conflicts");
    }

    private sealed class Run(int seed)
    {
        private static readonly string[] Players = ["alice", "bob", "carol"];
        private readonly Random _random = new(seed);
        private readonly EventLog _log = new();
        private readonly ViewSet _views = new();
        private readonly List<IncomingEvent> _produced = [];
        private readonly HashSet<string> _delivered = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _nextSequence = new(StringComparer.Ordinal);
        private readonly List<ViewSnapshot> _snapshots = [];
        // The intended history: live events after each position (index = position).
        private readonly List<ImmutableList<IncomingEvent>> _modelAt = [[]];

        public int Rollbacks { get; private set; }

        public int Duplicates { get; private set; }

        public int Conflicts { get; private set; }

        public void Execute()
        {
            for (var op = 0; op < OperationsPerSequence; op++)
            {
                var roll = _random.Next(100);
                if (roll < 60 || _log.Head.Position == 0)
                {
                    Append();
                }
                else if (roll < 75)
                {
                    _views.CatchUp(_log.Records);
                    _snapshots.Add(_views.Snapshot());
                }
                else if (roll < 90)
                {
                    Rollback();
                }
                else if (_snapshots.Count > 0)
                {
                    var restored = ViewSet.Restore(_snapshots[_random.Next(_snapshots.Count)]);
                    restored.CatchUp(_log.Records);
                    _views.CatchUp(_log.Records);
                    Assert.True(_views.ContentHash() == restored.ContentHash(), $"seed {seed}: snapshot + tail differs from the live views");
                }
                Check();
            }
        }

        private void Append()
        {
            var batch = new List<IncomingEvent>();
            var size = _random.Next(1, 6);
            for (var i = 0; i < size; i++)
            {
                var kind = _random.Next(10);
                if (kind < 3 && _produced.Count > 0)
                {
                    batch.Add(_produced[_random.Next(_produced.Count)]);                       // redelivery
                }
                else if (kind == 3 && _produced.Count > 0 && _delivered.Contains(_produced[^1].EventId))
                {
                    // Same id, other bytes, of an event already in the log (in an earlier batch, so the original wins).
                    var original = _produced[_random.Next(_produced.Count)];
                    batch.Add(original with { Data = [.. original.Data, (byte)' '] });
                }
                else
                {
                    batch.Add(Produce());
                }
            }
            if (_random.Next(3) == 0)
            {
                batch.Reverse();
            }

            var before = _log.Head.Position;
            var plan = _log.Append(batch);
            var live = _modelAt[^1];
            for (var i = 0; i < batch.Count; i++)
            {
                var outcome = plan.Outcomes[i];
                var firstTime = _delivered.Add(batch[i].EventId);
                var isOriginal = _produced.Contains(batch[i]);
                var expected = firstTime ? AppendStatus.Appended : isOriginal ? AppendStatus.Duplicate : AppendStatus.Conflict;
                Assert.True(expected == outcome.Status, $"seed {seed}: {batch[i].EventId} was {outcome.Status}, expected {expected}");
                if (outcome.Status == AppendStatus.Appended)
                {
                    live = live.Add(batch[i]);
                    _modelAt.Add(live);
                }
                Duplicates += outcome.Status == AppendStatus.Duplicate ? 1 : 0;
                Conflicts += outcome.Status == AppendStatus.Conflict ? 1 : 0;
            }
            Assert.Equal(before + plan.Records.Count, _log.Head.Position);
        }

        private IncomingEvent Produce()
        {
            var kind = _random.Next(6);
            var player = Players[_random.Next(Players.Length)];
            var other = Players[(Array.IndexOf(Players, player) + 1) % Players.Length];
            var stream = kind switch
            {
                0 => "chat/lobby",
                1 => $"trading/wallet/{player}",
                2 => "trading/book/ore-GOLD",
                3 => $"combat/match/m{_random.Next(3)}",
                4 => "chat/trade",
                _ => "weather/zone",
            };
            var sequence = _nextSequence[stream] = _nextSequence.GetValueOrDefault(stream) + 1;
            var produced = kind switch
            {
                0 or 4 => _random.Next(4) switch
                {
                    0 when sequence > 1 => ChatEdited(stream[5..], sequence, _random.Next(1, (int)sequence), $"edit {sequence}"),
                    1 when sequence > 1 => ChatDeleted(stream[5..], sequence, _random.Next(1, (int)sequence)),
                    _ => ChatPosted(stream[5..], sequence, player, $"text {sequence}"),
                },
                1 => WalletChanged(player, sequence, _random.Next(2) == 0 ? "currency:GOLD" : "item:ore", _random.Next(1000), _random.Next(10)),
                2 => Fill("ore-GOLD", sequence, player, other, _random.Next(90, 110), _random.Next(1, 5), T0.AddSeconds(_random.Next(300))),
                3 => MatchEnded($"m{sequence}-{stream[^1]}", sequence, player, other, _random.Next(1, 9)),
                _ => Unknown(stream, sequence),
            };
            _produced.Add(produced);
            return produced;
        }

        private void Rollback()
        {
            var to = _random.Next((int)_log.Head.Position);
            _log.Rollback(new RollbackMarker(to, "ops", $"seed {seed}", T0));
            _modelAt.Add(_modelAt[to]);
            Rollbacks++;
        }

        private void Check()
        {
            var records = _log.Records;
            Assert.True(ChainVerifier.Verify(records).IsValid, $"seed {seed}: chain broken");
            Assert.Equal(records.Count + 1, _modelAt.Count);

            var ids = new HashSet<string>(StringComparer.Ordinal);
            var streams = new Dictionary<string, (long Version, long Highest)>(StringComparer.Ordinal);
            foreach (var r in records)
            {
                if (r.Kind != RecordKind.Event)
                {
                    continue;
                }
                Assert.True(ids.Add(r.EventId), $"seed {seed}: {r.EventId} twice");
                Assert.True(_produced.Exists(e => e.EventId == r.EventId && e.Data.AsSpan().SequenceEqual(r.Data)), $"seed {seed}: {r.EventId} not as produced");
                var (version, highest) = streams.GetValueOrDefault(r.StreamId);
                Assert.Equal(version + 1, r.StreamVersion);
                var flags = r.Sequence <= highest ? RecordFlags.OutOfOrder : r.Sequence > highest + 1 ? RecordFlags.Gap : RecordFlags.None;
                Assert.Equal(flags, r.Flags);
                streams[r.StreamId] = (r.StreamVersion, Math.Max(highest, r.Sequence));
            }
            Assert.True(ids.SetEquals(_delivered), $"seed {seed}: the log's ids differ from the delivered ones");

            var rolledBack = LiveSet.RolledBack(records);
            var liveIds = records.Where(r => r.Kind == RecordKind.Event && !rolledBack.Contains(r.Position)).Select(r => r.EventId);
            Assert.Equal(_modelAt[^1].Select(e => e.EventId), liveIds);

            _views.CatchUp(records);
            var hash = _views.ContentHash();
            Assert.True(ViewSet.Rebuild(records).ContentHash() == hash, $"seed {seed}: incremental views differ from a rebuild");
            var fresh = new EventLog();
            fresh.Append(_modelAt[^1]);
            Assert.True(ViewSet.Rebuild(fresh.Records).ContentHash() == hash, $"seed {seed}: views differ from the intended history");
        }
    }
}
