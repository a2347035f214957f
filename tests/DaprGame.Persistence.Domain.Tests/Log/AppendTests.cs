using DaprGame.Persistence.Domain.Log;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Log;

public sealed class AppendTests
{
    [Fact]
    public void Appending_the_same_batch_twice_adds_nothing_the_second_time()
    {
        var log = new EventLog();
        IncomingEvent[] batch = [ChatPosted("lobby", 1, "alice", "hi"), ChatPosted("lobby", 2, "bob", "yo"), WalletChanged("bob", 1, "currency:GOLD", 10)];

        var first = log.Append(batch);
        var second = log.Append(batch);

        Assert.Equal([1L, 2, 3], first.Outcomes.Select(o => o.Position));
        Assert.All(first.Outcomes, o => Assert.Equal(AppendStatus.Appended, o.Status));
        Assert.True(second.IsEmpty);
        Assert.Empty(second.Writes());
        Assert.Equal([1L, 2, 3], second.Outcomes.Select(o => o.Position));
        Assert.All(second.Outcomes, o => Assert.Equal(AppendStatus.Duplicate, o.Status));
        Assert.Equal(3, log.Records.Count);
    }

    [Fact]
    public void A_redelivery_inside_one_batch_is_appended_once()
    {
        var log = new EventLog();
        var e = ChatPosted("lobby", 1, "alice", "hi");

        var plan = log.Append([e, e]);

        Assert.Single(log.Records);
        Assert.Equal([AppendStatus.Appended, AppendStatus.Duplicate], plan.Outcomes.Select(o => o.Status));
    }

    [Fact]
    public void The_same_id_with_different_content_is_a_conflict_and_is_not_appended()
    {
        var log = new EventLog();
        var original = ChatPosted("lobby", 1, "alice", "hi");
        log.Append([original]);

        var plan = log.Append([original with { Data = ChatPosted("lobby", 1, "alice", "changed").Data }]);

        Assert.Equal(new AppendOutcome(AppendStatus.Conflict, 1, RecordFlags.None), plan.Outcomes[0]);
        Assert.Single(log.Records);
        Assert.Equal(original.Data, log.Records[0].Data);
    }

    [Fact]
    public void A_gap_and_a_late_event_are_both_appended_and_flagged_and_versions_stay_contiguous()
    {
        var log = new EventLog();

        var plan = log.Append([ChatPosted("lobby", 1, "a", "1"), ChatPosted("lobby", 3, "a", "3"), ChatPosted("lobby", 2, "a", "2"), ChatPosted("lobby", 4, "a", "4")]);

        Assert.Equal([RecordFlags.None, RecordFlags.Gap, RecordFlags.OutOfOrder, RecordFlags.None], log.Records.Select(r => r.Flags));
        Assert.Equal([1L, 2, 3, 4], log.Records.Select(r => r.StreamVersion));
        Assert.Equal([1L, 3, 2, 4], log.Records.Select(r => r.Sequence));
        Assert.Equal(RecordFlags.Gap, plan.Outcomes[1].Flags);
        Assert.Equal(new StreamHead(4, 4), log.FindStream("chat/lobby"));
    }

    [Fact]
    public void A_plan_computed_against_an_older_head_is_refused()
    {
        var log = new EventLog();
        var stale = log.Plan([ChatPosted("lobby", 1, "a", "1")]);
        log.Append([ChatPosted("lobby", 2, "a", "2")]);

        Assert.Throws<InvalidOperationException>(() => log.Apply(stale));
        Assert.Single(log.Records);
    }

    [Fact]
    public void A_batch_writes_its_records_stream_heads_dedup_entries_and_the_head_under_the_documented_keys()
    {
        var log = new EventLog();
        var e1 = ChatPosted("lobby", 1, "a", "1");
        var e2 = WalletChanged("bob", 1, "currency:GOLD", 10);

        var plan = log.Append([e1, e2]);
        var keys = plan.Writes().Select(w => w.Key).ToList();

        Assert.Equal(
            ["log/000000000001", "log/000000000002", "stream/chat/lobby", "stream/trading/wallet/bob", LogKeys.Dedup(e1.EventId), LogKeys.Dedup(e2.EventId), "head"],
            keys);
        Assert.Matches("^dedup/[0-9a-f]{64}$", LogKeys.Dedup(e1.EventId));
        Assert.Equal(plan.NewHead, plan.Writes().Single(w => w.Key == "head").Value);
        Assert.Equal(log.Records[1].Hash, plan.NewHead.Hash);
        Assert.Equal(
            [LogKeys.Dedup(e1.EventId), "stream/chat/lobby", LogKeys.Dedup(e2.EventId), "stream/trading/wallet/bob"],
            AppendPlanner.KeysToRead([e1, e2]));
    }

    [Fact]
    public void Eight_producers_times_sixteen_streams_shuffled_and_duplicated_land_once_each_with_contiguous_versions()
    {
        var random = new Random(42);
        var produced = new List<IncomingEvent>();
        for (var producer = 0; producer < 8; producer++)
        {
            for (var s = 0; s < 16; s++)
            {
                var stream = $"p{producer}-s{s}";
                for (var seq = 1; seq <= 12; seq++)
                {
                    produced.Add(ChatPosted(stream, seq, $"player{producer}", $"m{seq}"));
                }
            }
        }
        // At-least-once: every event once or more, batches in a locally shuffled order.
        var deliveries = new List<IncomingEvent>();
        foreach (var e in produced)
        {
            var copies = 1 + (random.Next(3) == 0 ? random.Next(1, 3) : 0);
            for (var c = 0; c < copies; c++)
            {
                deliveries.Insert(Math.Max(0, deliveries.Count - random.Next(8)), e);
            }
        }

        var log = new EventLog();
        var appended = 0;
        var duplicates = 0;
        for (var i = 0; i < deliveries.Count; i += 7)
        {
            var plan = log.Append(deliveries.Skip(i).Take(7).ToList());
            appended += plan.Outcomes.Count(o => o.Status == AppendStatus.Appended);
            duplicates += plan.Outcomes.Count(o => o.Status == AppendStatus.Duplicate);
        }

        Assert.Equal(produced.Count, appended);
        Assert.Equal(deliveries.Count - produced.Count, duplicates);
        Assert.True(duplicates > 0);
        Assert.Equal(produced.Select(e => e.EventId).Order(), log.Records.Select(r => r.EventId).Order());
        Assert.True(ChainVerifier.Verify(log.Records).IsValid);
        Assert.Equal(8 * 16, log.Records.Select(r => r.StreamId).Distinct().Count());
        var flagged = 0;
        foreach (var stream in log.Records.GroupBy(r => r.StreamId))
        {
            Assert.Equal(Enumerable.Range(1, 12).Select(v => (long)v), stream.Select(r => r.StreamVersion));
            var highest = 0L;
            foreach (var r in stream)
            {
                Assert.Equal(r.Sequence <= highest ? RecordFlags.OutOfOrder : r.Sequence > highest + 1 ? RecordFlags.Gap : RecordFlags.None, r.Flags);
                flagged += r.Flags == RecordFlags.None ? 0 : 1;
                highest = Math.Max(highest, r.Sequence);
            }
        }
        Assert.True(flagged > 0, "the shuffle produced no reordering to flag");
    }
}
