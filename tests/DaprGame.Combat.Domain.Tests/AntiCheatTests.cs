using DaprGame.Combat.Domain.FixedPoint;
using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Combat.Domain.Tests;

public sealed class AntiCheatTests
{
    private enum Cheat
    {
        ForeignEntity,
        Cooldown,
        Flood,
        Future,
        Stale,
        Sequence,
        NotInMatch,
        ZeroAim,
        UnknownButton,
        ViewTickAhead,
    }

    private static readonly Dictionary<Cheat, InputVerdict> Expected = new()
    {
        [Cheat.ForeignEntity] = InputVerdict.RejectedForeignEntity,
        [Cheat.Cooldown] = InputVerdict.RejectedCooldown,
        [Cheat.Flood] = InputVerdict.RejectedFlood,
        [Cheat.Future] = InputVerdict.RejectedFuture,
        [Cheat.Stale] = InputVerdict.RejectedStale,
        [Cheat.Sequence] = InputVerdict.RejectedSequence,
        [Cheat.NotInMatch] = InputVerdict.RejectedNotInMatch,
        [Cheat.ZeroAim] = InputVerdict.RejectedMalformed,
        [Cheat.UnknownButton] = InputVerdict.RejectedMalformed,
        [Cheat.ViewTickAhead] = InputVerdict.RejectedMalformed,
    };

    /// <summary>
    /// Two matches from the same setup get the same honest inputs; one also gets a stream of fuzzed cheats. Every
    /// cheat is refused with its reason and counted, and the two matches stay identical at every tick.
    /// </summary>
    [Fact]
    public void Fuzzed_cheats_are_all_refused_counted_and_change_nothing()
    {
        var setup = new MatchSetup("deathmatch", "arena", 20, 99, MaxPlayers: 4, Bots: 10);
        var honest = MatchSimulations.Create(setup);
        var cheated = MatchSimulations.Create(setup);
        var players = new[] { "a", "b", "c" };
        var entities = players.Select(p => honest.Join(p, 0)).ToArray();
        Assert.Equal(entities, players.Select(p => cheated.Join(p, 0)).ToArray());
        var random = new Random(99);
        var sequences = new uint[players.Length];
        var fireReady = new int[players.Length];
        var counted = new Dictionary<InputVerdict, long>();

        for (var step = 0; step < 400; step++)
        {
            var next = honest.Tick + 1;
            for (var p = 0; p < players.Length; p++)
            {
                var fire = fireReady[p] <= next && random.Next(2) == 0;
                var input = new PlayerInput
                {
                    Sequence = ++sequences[p],
                    Tick = next,
                    ViewTick = next - 1,
                    Entity = entities[p],
                    MoveX = (short)random.Next(-700, 701),
                    MoveY = (short)random.Next(-700, 701),
                    AimX = (short)random.Next(1, 100),
                    AimY = (short)random.Next(-100, 100),
                    Buttons = fire ? InputButtons.Fire : InputButtons.None,
                };
                if (fire)
                {
                    fireReady[p] = next + ((Match)honest).Rules.RifleCooldown;
                }
                Assert.Equal(InputVerdict.Accepted, honest.Submit(players[p], input));
                Assert.Equal(InputVerdict.Accepted, cheated.Submit(players[p], input));

                var queued = 1;
                for (var c = random.Next(3); c > 0; c--)
                {
                    var cheat = (Cheat)random.Next(Expected.Count);
                    if (cheat == Cheat.Flood && queued < 2)
                    {
                        var filler = input with { Sequence = ++sequences[p], Buttons = InputButtons.None };
                        Assert.Equal(InputVerdict.Accepted, honest.Submit(players[p], filler));
                        Assert.Equal(InputVerdict.Accepted, cheated.Submit(players[p], filler));
                        queued++;
                    }
                    var crafted = Craft(cheat, p, input, random, players, entities, sequences, (fire || fireReady[p] > next) && queued < 2);
                    if (crafted is not var (player, bad))
                    {
                        continue;
                    }
                    var hashBefore = ((Match)cheated).ComputeHash();
                    var verdict = cheated.Submit(player, bad);
                    Assert.True(Expected[cheat] == verdict, $"{cheat}: {verdict}");
                    Assert.Equal(hashBefore, ((Match)cheated).ComputeHash());
                    counted[verdict] = counted.GetValueOrDefault(verdict) + 1;
                }
            }
            var report = honest.Step();
            Assert.Equal(report.StateHash, cheated.Step().StateHash);
        }

        Assert.Equal(honest.TickHashes, cheated.TickHashes);
        Assert.Equal(counted.OrderBy(c => c.Key), cheated.VerdictCounts.OrderBy(c => c.Key));
        Assert.Equal(Enum.GetValues<Cheat>().Select(c => Expected[c]).Distinct().Order(), counted.Keys.Order());
        Assert.Empty(honest.VerdictCounts);
        Assert.Equal(0, Replays.Verify(cheated.Log, honest.TickHashes).Mismatches);
    }

    /// <summary>One cheating input of the given kind, or null when this tick offers no way to commit it.</summary>
    private static (string Player, PlayerInput Input)? Craft(Cheat cheat, int p, PlayerInput honest, Random random, string[] players, int[] entities, uint[] sequences, bool rifleBusy)
    {
        var fresh = honest with { Sequence = sequences[p] + 1, Buttons = InputButtons.None };
        (string, PlayerInput)? crafted = cheat switch
        {
            Cheat.ForeignEntity => (players[p], fresh with { Entity = entities[(p + 1) % entities.Length] }),
            // The honest input already fired this tick, or the rifle is still cooling down from an earlier shot.
            Cheat.Cooldown => rifleBusy ? (players[p], fresh with { Buttons = InputButtons.Fire }) : null,
            Cheat.Flood => (players[p], fresh),
            Cheat.Future => (players[p], fresh with { Tick = honest.Tick + 5 + random.Next(1000) }),
            Cheat.Stale => honest.Tick > 33 ? (players[p], fresh with { Tick = random.Next(0, honest.Tick - 32), ViewTick = 0 }) : null,
            Cheat.Sequence => (players[p], honest with { Sequence = (uint)random.Next(0, (int)honest.Sequence + 1) }),
            Cheat.NotInMatch => ($"intruder-{random.Next(10)}", fresh),
            Cheat.ZeroAim => (players[p], fresh with { AimX = 0, AimY = 0, Buttons = random.Next(2) == 0 ? InputButtons.Fire : InputButtons.Ability1 }),
            Cheat.UnknownButton => (players[p], fresh with { Buttons = (InputButtons)(16 << random.Next(4)) }),
            _ => (players[p], fresh with { ViewTick = honest.Tick + 1 + random.Next(10) }),
        };
        if (crafted is not null)
        {
            sequences[p]++;
        }
        return crafted;
    }

    [Fact]
    public void A_speed_hack_is_clamped_and_counted_and_no_entity_ever_outruns_its_top_speed()
    {
        var setup = new MatchSetup("deathmatch", "plaza", 30, 3, MaxPlayers: 6, Bots: 60);
        var sim = (Match)MatchSimulations.Create(setup);
        var players = Enumerable.Range(0, 6).Select(i => $"p{i}").ToArray();
        var entities = players.Select(p => sim.Join(p, 0)).ToArray();
        var random = new Random(3);
        var clamped = 0;
        for (var step = 0; step < 400; step++)
        {
            for (var p = 0; p < players.Length; p++)
            {
                var input = new PlayerInput
                {
                    Sequence = (uint)step + 1,
                    Tick = sim.Tick + 1,
                    Entity = entities[p],
                    MoveX = (short)random.Next(short.MinValue, short.MaxValue + 1),
                    MoveY = (short)random.Next(short.MinValue, short.MaxValue + 1),
                };
                var verdict = sim.Submit(players[p], input);
                var hack = (long)input.MoveX * input.MoveX + (long)input.MoveY * input.MoveY > 1000L * 1000;
                Assert.Equal(hack ? InputVerdict.ClampedSpeed : InputVerdict.Accepted, verdict);
                clamped += hack ? 1 : 0;
            }
            var before = sim.History.Get(sim.Tick)!;
            var previous = Enumerable.Range(0, before.Count).ToDictionary(i => before.States[i].Id, i => before.States[i]);
            sim.Step();
            var after = sim.History.Get(sim.Tick)!;
            for (var i = 0; i < after.Count; i++)
            {
                ref readonly var now = ref after.States[i];
                if (!previous.TryGetValue(now.Id, out var then) || then.Health <= 0 || now.Health <= 0 || now.Kind == EntityKind.Projectile)
                {
                    continue;
                }
                var limit = now.Kind == EntityKind.Player ? sim.Rules.PlayerSpeed : sim.Rules.BotSpeed;
                long dx = now.X - then.X, dy = now.Y - then.Y;
                Assert.True(dx * dx + dy * dy <= (long)limit.Raw * limit.Raw, $"entity {now.Id} moved {Math.Sqrt(dx * dx + dy * dy) / 65536:0.000} units in a tick (limit {limit})");
            }
        }

        Assert.True(clamped > 2000, $"{clamped} speed hacks");
        Assert.Equal(clamped, sim.VerdictCounts[InputVerdict.ClampedSpeed]);
    }

    [Fact]
    public void A_player_is_flagged_at_twenty_refusals_and_again_every_hundred_after()
    {
        var sim = MatchSimulations.Create(new MatchSetup("deathmatch", "arena", 20, 1));
        var entity = sim.Join("cheater", 0);
        sim.Join("honest", 0);
        var flags = new List<CheatFlagged>();
        for (var i = 1; i <= 230; i++)
        {
            var verdict = sim.Submit("cheater", new PlayerInput { Sequence = (uint)i, Tick = sim.Tick + 1, Entity = entity + 1 });
            Assert.Equal(InputVerdict.RejectedForeignEntity, verdict);
            if (i is 19 or 20 or 119 or 120 or 220)
            {
                flags.AddRange(sim.Step().Occurrences.OfType<CheatFlagged>());
                Assert.Equal(i switch { 19 => 0, 20 or 119 => 1, _ => i == 120 ? 2 : 3 }, flags.Count);
            }
        }

        Assert.Equal([20, 120, 220], flags.Select(f => f.Count));
        Assert.All(flags, f => Assert.Equal(("cheater", InputVerdict.RejectedForeignEntity), (f.PlayerId, f.Reason)));
        Assert.Equal(230, sim.VerdictCounts[InputVerdict.RejectedForeignEntity]);
    }

    [Fact]
    public void Flood_limit_is_configurable()
    {
        var sim = MatchSimulations.Create(new MatchSetup("deathmatch", "arena", 20, 1), new SimulationOptions { MaxInputsPerTick = 3 });
        var entity = sim.Join("a", 0);
        var verdicts = Enumerable.Range(1, 4).Select(i => sim.Submit("a", new PlayerInput { Sequence = (uint)i, Tick = 1, Entity = entity })).ToList();

        Assert.Equal([InputVerdict.Accepted, InputVerdict.Accepted, InputVerdict.Accepted, InputVerdict.RejectedFlood], verdicts);
        sim.Step();
        Assert.Equal(InputVerdict.Accepted, sim.Submit("a", new PlayerInput { Sequence = 5, Tick = 2, Entity = entity }));
        Assert.Equal(3u, sim.LastProcessedSequence("a"));
    }

    [Fact]
    public void Movement_stays_inside_the_map_and_out_of_walls()
    {
        foreach (var map in MatchSimulations.Maps)
        {
            var driver = new MatchDriver(new MatchSetup("deathmatch", map, 60, 8, MaxPlayers: 8, Bots: 200), 8);
            for (var i = 0; i < 8; i++)
            {
                driver.Join();
            }
            var definition = driver.Match.Map;
            for (var step = 0; step < 600; step++)
            {
                driver.Tick(churn: false);
                var frame = driver.Match.History.Get(driver.Sim.Tick)!;
                for (var i = 0; i < frame.Count; i++)
                {
                    ref readonly var s = ref frame.States[i];
                    var radius = s.Kind == EntityKind.Projectile ? CombatRules.RocketRadius : CombatRules.FighterRadius;
                    Assert.True(definition.InBounds(new Fix(s.X), new Fix(s.Y), radius), $"{map}: entity {s.Id} out of bounds");
                    Assert.False(definition.Blocked(new Fix(s.X), new Fix(s.Y), radius), $"{map}: entity {s.Id} inside a wall");
                }
            }
        }
    }
}
