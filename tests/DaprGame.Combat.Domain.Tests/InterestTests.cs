using System.Buffers;
using DaprGame.Combat.Domain.Snapshots;

namespace DaprGame.Combat.Domain.Tests;

public sealed class InterestTests
{
    private const int Radius = 24;

    [Fact]
    public void Each_client_sees_exactly_what_is_in_its_radius_or_on_its_team_and_deltas_match_full_snapshots()
    {
        var driver = new MatchDriver(new MatchSetup("team", "plaza", 20, 77, MaxPlayers: 8, Bots: 150), 77, new SimulationOptions { InterestRadius = Radius });
        for (var i = 0; i < 6; i++)
        {
            driver.Join(1 + (i % 2));
        }
        var random = new Random(77);
        var clients = new Dictionary<string, (SnapshotView Delta, List<int> Acked)>();
        var buffer = new ArrayBufferWriter<byte>();
        long entered = 0, left = 0, hiddenEnemyTicks = 0, deltaBytes = 0, fullBytes = 0;

        for (var step = 0; step < 300; step++)
        {
            driver.Tick(churn: step is > 20 and < 280);
            var tick = driver.Sim.Tick;
            var frame = driver.Match.History.Get(tick)!;
            foreach (var player in driver.Match.PlayerIds)
            {
                if (!clients.TryGetValue(player, out var client))
                {
                    client = (new SnapshotView(), [0]);
                    clients[player] = client;
                }
                var expected = ExpectedVisible(frame, driver.Match.PlayerIndex(player));

                // The client acknowledges with a lag of 0–5 ticks; sometimes the ack is one it never got (lost), so the server sends a full snapshot.
                var acked = client.Acked[Math.Max(0, client.Acked.Count - 1 - random.Next(6))];
                var before = client.Delta.Entities.Keys.ToHashSet();
                buffer.ResetWrittenCount();
                driver.Sim.WriteSnapshot(player, acked, buffer);
                deltaBytes += buffer.WrittenCount;
                Assert.All(RecordIds(buffer.WrittenSpan), id => Assert.Contains(id, expected));
                client.Delta.Apply(buffer.WrittenSpan);
                client.Acked.Add(tick);

                buffer.ResetWrittenCount();
                driver.Sim.WriteSnapshot(player, 0, buffer);
                fullBytes += buffer.WrittenCount;
                var full = new SnapshotView();
                full.Apply(buffer.WrittenSpan);

                Assert.Equal(tick, client.Delta.Tick);
                Assert.Equal(expected.Order(), client.Delta.Entities.Keys.Order());
                Assert.Equal(full.Entities.OrderBy(e => e.Key), client.Delta.Entities.OrderBy(e => e.Key));
                foreach (var view in client.Delta.Entities.Values)
                {
                    ref readonly var server = ref frame.States[frame.IndexOf(view.Id)];
                    Assert.Equal((server.Kind, server.Team, server.QuantizedX, server.QuantizedY, server.Health), (view.Kind, view.Team, view.X, view.Y, view.Health));
                }
                var now = client.Delta.Entities.Keys.ToHashSet();
                entered += now.Except(before).Count();
                left += before.Except(now).Count();
                hiddenEnemyTicks += frame.Count - expected.Count;
            }
        }

        Assert.True(entered > 200 && left > 200, $"{entered} entered and {left} left interest");
        Assert.True(hiddenEnemyTicks > 10_000, $"{hiddenEnemyTicks} hidden entity-ticks");
        Assert.True(deltaBytes * 3 < fullBytes * 2, $"delta {deltaBytes} B vs full {fullBytes} B");
    }

    [Fact]
    public void An_enemy_far_away_never_appears_in_the_stream_but_a_far_team_mate_always_does()
    {
        var sim = (Rules.Match)MatchSimulations.Create(new MatchSetup("team", "field", 20, 5), new SimulationOptions { InterestRadius = Radius });
        var a = sim.Join("a", 1);
        var mate = sim.Join("mate", 1);
        var enemy = sim.Join("enemy", 2);
        sim.Step();
        sim.Place(a, FixedPoint.Fix.FromInt(20), FixedPoint.Fix.FromInt(20));
        sim.Place(mate, FixedPoint.Fix.FromInt(490), FixedPoint.Fix.FromInt(490));
        sim.Place(enemy, FixedPoint.Fix.FromInt(20 + Radius + 2), FixedPoint.Fix.FromInt(20));
        var view = new SnapshotView();
        var buffer = new ArrayBufferWriter<byte>();
        var acked = 0;
        for (var i = 0; i < 40; i++)
        {
            // The enemy walks straight at "a" and stops less than one step outside the radius.
            var closer = sim.BodyOf(enemy).X - sim.Rules.PlayerSpeed > FixedPoint.Fix.FromInt(20 + Radius);
            sim.Submit("enemy", new PlayerInput { Sequence = (uint)i + 1, Tick = sim.Tick + 1, Entity = enemy, MoveX = (short)(closer ? -1000 : 0) });
            sim.Step();
            buffer.ResetWrittenCount();
            sim.WriteSnapshot("a", acked, buffer);
            Assert.DoesNotContain(enemy, RecordIds(buffer.WrittenSpan));
            view.Apply(buffer.WrittenSpan);
            acked = sim.Tick;
            Assert.Contains(mate, view.Entities.Keys);
            Assert.Contains(a, view.Entities.Keys);
        }

        // One step closer and the enemy enters, whole.
        sim.Submit("enemy", new PlayerInput { Sequence = 100, Tick = sim.Tick + 1, Entity = enemy, MoveX = -1000 });
        sim.Step();
        buffer.ResetWrittenCount();
        sim.WriteSnapshot("a", acked, buffer);
        view.Apply(buffer.WrittenSpan);
        Assert.Equal(EntityKind.Player, view.Entities[enemy].Kind);
        Assert.Equal(2, view.Entities[enemy].Team);
    }

    /// <summary>What the interest rule says a player sees, by brute force over every entity (no grid).</summary>
    private static HashSet<int> ExpectedVisible(Frame frame, int player)
    {
        var result = new HashSet<int>();
        var own = frame.IndexOf(frame.PlayerEntities[player]);
        long r = (long)Radius << 16;
        for (var i = 0; i < frame.Count; i++)
        {
            ref readonly var s = ref frame.States[i];
            var near = own >= 0 && Square(s.X - (long)frame.States[own].X) + Square(s.Y - (long)frame.States[own].Y) <= r * r;
            var mate = false;
            for (var p = 0; p < frame.PlayerCount; p++)
            {
                mate |= frame.PlayerEntities[p] == s.Id && frame.PlayerTeams[p] != 0 && frame.PlayerTeams[p] == frame.PlayerTeams[player];
            }
            if (near || mate)
            {
                result.Add(s.Id);
            }
        }
        return result;
    }

    private static long Square(long x) => x * x;

    /// <summary>The ids of the records in a snapshot (not the removals), read straight from the wire format.</summary>
    internal static List<int> RecordIds(ReadOnlySpan<byte> snapshot)
    {
        var reader = new SpanReader(snapshot);
        var kind = reader.ReadByte();
        reader.ReadVarint();
        if (kind == SnapshotFormat.Delta)
        {
            reader.ReadVarint();
        }
        reader.ReadVarint();
        reader.ReadVarint();
        var removals = reader.ReadVarint();
        for (var i = 0; i < removals; i++)
        {
            reader.ReadVarint();
        }
        var ids = new List<int>();
        var records = reader.ReadVarint();
        for (var i = 0; i < records; i++)
        {
            ids.Add(reader.ReadVarintInt());
            var mask = reader.ReadByte();
            if ((mask & SnapshotFormat.KindField) != 0)
            {
                reader.ReadByte();
            }
            for (var field = SnapshotFormat.TeamField; field <= SnapshotFormat.HealthField; field <<= 1)
            {
                if ((mask & field) != 0)
                {
                    reader.ReadVarint();
                }
            }
        }
        return ids;
    }
}
