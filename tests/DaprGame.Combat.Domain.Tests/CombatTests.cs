using DaprGame.Combat.Domain.FixedPoint;
using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Combat.Domain.Tests;

public sealed class CombatTests
{
    private readonly Match _sim;
    private readonly int _shooter;
    private readonly int _target;
    private uint _shooterSequence;
    private uint _targetSequence;

    public CombatTests() : this(new MatchSetup("deathmatch", "arena", 20, 4))
    {
    }

    private CombatTests(MatchSetup setup)
    {
        _sim = (Match)MatchSimulations.Create(setup);
        _shooter = _sim.Join("shooter", setup.Mode == "team" ? 1 : 0);
        _target = _sim.Join("target", setup.Mode == "team" ? 2 : 0);
        _sim.Step();
        // A clear line along y = 40 in the arena: no wall crosses it between x = 6 and x = 30.
        _sim.Place(_shooter, Fix.FromInt(6), Fix.FromInt(40));
        _sim.Place(_target, Fix.FromInt(20), Fix.FromInt(40));
    }

    [Fact]
    public void A_shot_from_the_past_hits_where_the_target_was_at_the_tick_the_shooter_saw()
    {
        var seen = _sim.Tick;
        MoveTarget(0, -1000, ticks: 10);
        Assert.True(Fix.Abs(_sim.BodyOf(_target).Y - Fix.FromInt(36)) < Fix.Ratio(1, 100), $"target at y = {_sim.BodyOf(_target).Y}");

        var report = FireAt(viewTick: seen);

        Assert.Equal(CombatRules.MaxHealth - CombatRules.RifleDamage, _sim.BodyOf(_target).Health);
        Assert.Equal(CombatRules.RifleDamage, _sim.Result().Players.Single(p => p.PlayerId == "shooter").DamageDealt);
        Assert.Empty(report.Occurrences);
    }

    [Fact]
    public void The_same_shot_seen_at_the_present_tick_misses_because_the_target_has_moved()
    {
        MoveTarget(0, -1000, ticks: 10);

        FireAt(viewTick: _sim.Tick);

        Assert.Equal(CombatRules.MaxHealth, _sim.BodyOf(_target).Health);
    }

    [Fact]
    public void Rewinding_is_bounded_so_a_very_old_view_tick_is_checked_against_the_oldest_kept_positions()
    {
        var seen = _sim.Tick;
        // Down for 10 ticks, then still: 32 ticks before the shot the target is already 4 units away from y = 40.
        MoveTarget(0, -1000, ticks: 10);
        MoveTarget(0, 0, ticks: 30);

        FireAt(viewTick: seen);

        Assert.Equal(CombatRules.MaxHealth, _sim.BodyOf(_target).Health);
        Assert.Equal(_sim.Tick - 1 - CombatRules.RewindTicks + 1, _sim.RewindFrame(_sim.Tick, seen)!.Tick);
    }

    [Fact]
    public void A_wall_between_shooter_and_target_stops_the_shot()
    {
        _sim.Place(_shooter, Fix.FromInt(10), Fix.FromInt(17));
        _sim.Place(_target, Fix.FromInt(24), Fix.FromInt(17));

        FireAt(viewTick: _sim.Tick);

        Assert.Equal(CombatRules.MaxHealth, _sim.BodyOf(_target).Health);
    }

    [Fact]
    public void A_kill_reports_the_killer_the_weapon_and_the_loot_and_the_victim_respawns()
    {
        var occurrences = new List<MatchOccurrence>();
        for (var shot = 0; shot < 5; shot++)
        {
            occurrences.AddRange(FireAt(viewTick: _sim.Tick).Occurrences);
            occurrences.AddRange(Wait(_sim.Rules.RifleCooldown - 1));
        }

        var killed = Assert.Single(occurrences.OfType<PlayerKilled>());
        Assert.Equal(("target", "shooter", "rifle"), (killed.VictimId, killed.KillerId, killed.Weapon));
        var loot = Assert.Single(occurrences.OfType<LootDropped>());
        Assert.Equal(("shooter", 1, killed.Tick), (loot.PlayerId, loot.Quantity, loot.Tick));
        Assert.True(loot.Item is "iron-sword" or "health-potion", loot.Item);
        var result = _sim.Result();
        Assert.Equal(new PlayerStats("shooter", 0, 1, 1, 0, 100), result.Players[0]);
        Assert.Equal(new PlayerStats("target", 0, 0, 0, 1, 0), result.Players[1]);
        Assert.Equal(["shooter"], result.Winners);
        Assert.Equal(0, _sim.BodyOf(_target).Health);

        Wait(_sim.Rules.RespawnDelay);
        Assert.Equal(CombatRules.MaxHealth, _sim.BodyOf(_target).Health);
    }

    [Fact]
    public void Loot_draws_both_items_over_many_kills()
    {
        var items = new HashSet<string>();
        for (var seed = 1UL; seed <= 12; seed++)
        {
            var t = new CombatTests(new MatchSetup("deathmatch", "arena", 20, seed));
            for (var shot = 0; shot < 5; shot++)
            {
                items.UnionWith(t.FireAt(t._sim.Tick).Occurrences.OfType<LootDropped>().Select(l => l.Item));
                t.Wait(t._sim.Rules.RifleCooldown - 1);
            }
        }
        Assert.Equal(["health-potion", "iron-sword"], items.Order());
    }

    [Fact]
    public void A_rocket_flies_and_hits_for_its_damage()
    {
        Submit("shooter", _shooter, InputButtons.Ability1, aimX: 1000);
        var ticks = 0;
        while (_sim.BodyOf(_target).Health == CombatRules.MaxHealth && ticks++ < 40)
        {
            _sim.Step();
        }
        Assert.Equal(CombatRules.MaxHealth - CombatRules.RocketDamage, _sim.BodyOf(_target).Health);
        Assert.InRange(ticks, 10, 14);
    }

    [Fact]
    public void Team_mates_cannot_hurt_each_other()
    {
        var t = new CombatTests(new MatchSetup("team", "arena", 20, 4));
        t._sim.Join("mate", 1);
        t._sim.Step();
        var mate = t._sim.PlayerIds.ToList().IndexOf("mate");
        var mateEntity = t._sim.History.Get(t._sim.Tick)!.PlayerEntities[mate];
        t._sim.Place(mateEntity, Fix.FromInt(12), Fix.FromInt(40));

        t.FireAt(t._sim.Tick);

        Assert.Equal(CombatRules.MaxHealth, t._sim.BodyOf(mateEntity).Health);
        Assert.Equal(CombatRules.MaxHealth - CombatRules.RifleDamage, t._sim.BodyOf(t._target).Health);
    }

    [Fact]
    public void The_match_ends_at_the_score_limit_with_the_scorer_winning()
    {
        var t = new CombatTests(new MatchSetup("deathmatch", "arena", 20, 4, ScoreLimit: 1));
        var occurrences = new List<MatchOccurrence>();
        for (var shot = 0; shot < 5 && !t._sim.IsOver; shot++)
        {
            occurrences.AddRange(t.FireAt(t._sim.Tick).Occurrences);
            if (!t._sim.IsOver)
            {
                occurrences.AddRange(t.Wait(t._sim.Rules.RifleCooldown - 1));
            }
        }

        Assert.True(t._sim.IsOver);
        Assert.Equal("score-limit", Assert.Single(occurrences.OfType<MatchFinished>()).Reason);
        Assert.Equal(["shooter"], t._sim.Result().Winners);
        Assert.Throws<InvalidOperationException>(() => t._sim.Step());
        Assert.Equal(InputVerdict.RejectedNotInMatch, t._sim.Submit("shooter", new PlayerInput { Sequence = 999, Tick = t._sim.Tick + 1, Entity = t._shooter }));
    }

    [Fact]
    public void The_match_ends_when_its_duration_is_up()
    {
        var sim = MatchSimulations.Create(new MatchSetup("team", "arena", 20, 4, DurationTicks: 30));
        sim.Join("a", 1);
        sim.Join("b", 2);
        var finished = new List<MatchFinished>();
        while (!sim.IsOver)
        {
            finished.AddRange(sim.Step().Occurrences.OfType<MatchFinished>());
        }

        Assert.Equal(new MatchFinished(30, "duration"), Assert.Single(finished));
        Assert.Equal(30, sim.Result().Ticks);
        Assert.Equal(["a", "b"], sim.Result().Winners.Order());
    }

    [Fact]
    public void Setups_are_validated()
    {
        var good = new MatchSetup("deathmatch", "arena", 20, 1);
        Assert.Null(MatchSimulations.Validate(good));
        Assert.Equal(["arena", "plaza", "field"], MatchSimulations.Maps);
        foreach (var bad in new[]
        {
            good with { Mode = "ctf" }, good with { Map = "moon" }, good with { TickRate = 9 }, good with { TickRate = 61 },
            good with { MaxPlayers = 0 }, good with { MaxPlayers = 65 }, good with { Bots = 5001 }, good with { Bots = -1 },
            good with { DurationTicks = -1 }, good with { ScoreLimit = -1 },
        })
        {
            Assert.NotNull(MatchSimulations.Validate(bad));
            Assert.Throws<ArgumentException>(() => MatchSimulations.Create(bad));
        }
    }

    [Fact]
    public void A_full_match_refuses_another_player_and_a_player_who_left_can_come_back()
    {
        var sim = MatchSimulations.Create(new MatchSetup("deathmatch", "arena", 20, 1, MaxPlayers: 2));
        var first = sim.Join("a", 0);
        sim.Join("b", 0);
        Assert.Throws<InvalidOperationException>(() => sim.Join("c", 0));
        sim.Step();
        sim.Leave("a");
        sim.Step();
        var again = sim.Join("a", 0);
        sim.Step();

        Assert.NotEqual(first, again);
        Assert.Equal(InputVerdict.RejectedForeignEntity, sim.Submit("a", new PlayerInput { Sequence = 1, Tick = sim.Tick + 1, Entity = first }));
        Assert.Equal(InputVerdict.Accepted, sim.Submit("a", new PlayerInput { Sequence = 1, Tick = sim.Tick + 1, Entity = again }));
        Assert.Equal(0, Replays.Verify(sim.Log, sim.TickHashes).Mismatches);
    }

    private TickReport FireAt(int viewTick) => Submit("shooter", _shooter, InputButtons.Fire, aimX: 1000, viewTick: viewTick);

    private TickReport Submit(string player, int entity, InputButtons buttons, int aimX = 0, int aimY = 0, int moveX = 0, int moveY = 0, int? viewTick = null)
    {
        var sequence = player == "shooter" ? ++_shooterSequence : ++_targetSequence;
        var verdict = _sim.Submit(player, new PlayerInput
        {
            Sequence = sequence,
            Tick = _sim.Tick + 1,
            ViewTick = viewTick ?? _sim.Tick,
            Entity = entity,
            AimX = (short)aimX,
            AimY = (short)aimY,
            MoveX = (short)moveX,
            MoveY = (short)moveY,
            Buttons = buttons,
        });
        Assert.Equal(InputVerdict.Accepted, verdict);
        return _sim.Step();
    }

    private void MoveTarget(int x, int y, int ticks)
    {
        for (var i = 0; i < ticks; i++)
        {
            Submit("target", _target, InputButtons.None, moveX: x, moveY: y);
        }
    }

    private List<MatchOccurrence> Wait(int ticks)
    {
        var occurrences = new List<MatchOccurrence>();
        for (var i = 0; i < ticks && !_sim.IsOver; i++)
        {
            occurrences.AddRange(_sim.Step().Occurrences);
        }
        return occurrences;
    }
}
