using System.Runtime.CompilerServices;
using DaprGame.Combat.Domain.FixedPoint;

namespace DaprGame.Combat.Domain.Rules;

/// <summary>The movement, bot, death, respawn and scoring systems.</summary>
internal sealed partial class Match
{
    /// <summary>Bots keep a heading for 1–3 seconds, then draw a new one; a bot that hit a wall draws one at once.</summary>
    private void Wander()
    {
        var fighters = _fighters.Dense;
        var entities = _fighters.Entities;
        for (var i = 0; i < fighters.Length; i++)
        {
            ref var fighter = ref fighters[i];
            if (fighter.Player >= 0 || fighter.RespawnTick != 0 || --fighter.WanderTicks > 0)
            {
                continue;
            }
            var (x, y) = IntegerMath.Normalize(_random.Range(-1000, 1000), _random.Range(-1000, 1000), 1000);
            ref var mover = ref _movers.Get(entities[i]);
            mover.WishX = x == 0 && y == 0 ? 1000 : x;
            mover.WishY = y;
            fighter.WanderTicks = _random.Range(_rules.TickRate, _rules.TickRate * 3);
        }
    }

    /// <summary>
    /// Velocity is the wish scaled to the top speed and clamped to it; each axis moves on its own and is refused if
    /// it would leave the map or enter a wall, so an entity slides along walls and never ends up inside one.
    /// </summary>
    private void Move()
    {
        var movers = _movers.Dense;
        var entities = _movers.Entities;
        for (var i = 0; i < movers.Length; i++)
        {
            ref var mover = ref movers[i];
            if (mover.WishX == 0 && mover.WishY == 0)
            {
                continue;
            }
            ref var body = ref _bodies.Get(entities[i]);
            if (body.Health <= 0)
            {
                continue;
            }
            var speed = mover.SpeedPerTick.Raw;
            var (vx, vy) = IntegerMath.ClampLength((long)mover.WishX * speed / 1000, (long)mover.WishY * speed / 1000, speed);
            var blocked = false;
            var x = body.X + new Fix(vx);
            if (Open(x, body.Y))
            {
                body.X = x;
            }
            else
            {
                blocked = true;
            }
            var y = body.Y + new Fix(vy);
            if (Open(body.X, y))
            {
                body.Y = y;
            }
            else
            {
                blocked = true;
            }
            if (blocked && body.Kind == EntityKind.Bot)
            {
                _fighters.Get(entities[i]).WanderTicks = 0;
            }
        }
    }

    private bool Open(Fix x, Fix y) => _map.InBounds(x, y, CombatRules.FighterRadius) && !_map.Blocked(x, y, CombatRules.FighterRadius);

    /// <summary>Applies hits in the order they were made; the hit that takes the last health gets the kill.</summary>
    private void ApplyDamage(int tick)
    {
        for (var i = 0; i < _damageCount; i++)
        {
            var hit = _damage[i];
            ref var body = ref _bodies.TryGet(hit.Target);
            if (Unsafe.IsNullRef(ref body) || body.Health <= 0)
            {
                continue;
            }
            var dealt = Math.Min(hit.Amount, body.Health);
            body.Health -= dealt;
            var attacker = hit.AttackerPlayer >= 0 ? _players[hit.AttackerPlayer] : null;
            if (attacker is not null)
            {
                attacker.DamageDealt += dealt;
            }
            if (body.Health == 0)
            {
                Kill(tick, hit.Target, attacker, hit.Weapon);
            }
        }
        _damageCount = 0;
    }

    private void Kill(int tick, int victim, PlayerSlot? killer, Weapon weapon)
    {
        ref var fighter = ref _fighters.Get(victim);
        fighter.RespawnTick = tick + _rules.RespawnDelay;
        fighter.Pending = InputButtons.None;
        ref var mover = ref _movers.Get(victim);
        mover.WishX = 0;
        mover.WishY = 0;
        string victimId;
        if (fighter.Player >= 0)
        {
            var player = _players[fighter.Player];
            player.Deaths++;
            victimId = player.Id;
        }
        else
        {
            victimId = BotName(fighter.BotNumber);
        }
        AddOccurrence(new PlayerKilled(tick, victimId, killer?.Id, WeaponName(weapon)));
        if (killer is null)
        {
            return;
        }
        killer.Kills++;
        killer.Score++;
        var roll = _random.Next(10);
        foreach (var (item, weight) in CombatRules.Loot)
        {
            if (roll < weight)
            {
                AddOccurrence(new LootDropped(tick, killer.Id, item, 1));
                break;
            }
            roll -= weight;
        }
    }

    /// <summary>The dead come back where a player spawns (players) or anywhere open (bots), at full health.</summary>
    private void Respawn(int tick)
    {
        var fighters = _fighters.Dense;
        var entities = _fighters.Entities;
        for (var i = 0; i < fighters.Length; i++)
        {
            ref var fighter = ref fighters[i];
            if (fighter.RespawnTick == 0 || fighter.RespawnTick > tick)
            {
                continue;
            }
            fighter.RespawnTick = 0;
            fighter.WanderTicks = 0;
            ref var body = ref _bodies.Get(entities[i]);
            (body.X, body.Y) = fighter.Player >= 0 ? PlayerSpawnPoint() : RandomOpenPoint();
            body.Health = CombatRules.MaxHealth;
        }
    }

    private void Score(int tick)
    {
        if (Setup.DurationTicks > 0 && tick >= Setup.DurationTicks)
        {
            Finish(tick, "duration");
            return;
        }
        if (Setup.ScoreLimit <= 0)
        {
            return;
        }
        var team1 = 0;
        var team2 = 0;
        foreach (var player in _players)
        {
            if (!_teams && player.Score >= Setup.ScoreLimit)
            {
                Finish(tick, "score-limit");
                return;
            }
            if (player.Team == 1)
            {
                team1 += player.Score;
            }
            else if (player.Team == 2)
            {
                team2 += player.Score;
            }
        }
        if (_teams && (team1 >= Setup.ScoreLimit || team2 >= Setup.ScoreLimit))
        {
            Finish(tick, "score-limit");
        }
    }

    private void Finish(int tick, string reason)
    {
        _over = true;
        AddOccurrence(new MatchFinished(tick, reason));
    }

    internal static string BotName(int number) => "bot-" + number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal static string WeaponName(Weapon weapon) => weapon switch
    {
        Weapon.Rifle => "rifle",
        Weapon.Rocket => "rocket",
        _ => "blast",
    };
}
