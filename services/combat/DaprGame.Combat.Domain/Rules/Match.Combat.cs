using System.Runtime.CompilerServices;
using DaprGame.Combat.Domain.FixedPoint;
using DaprGame.Combat.Domain.Snapshots;

namespace DaprGame.Combat.Domain.Rules;

/// <summary>The weapon and projectile systems: cooldowns, lag-compensated hitscan, rockets and blasts.</summary>
internal sealed partial class Match
{
    private void FireWeapons(int tick)
    {
        var fighters = _fighters.Dense;
        var entities = _fighters.Entities;
        // Rockets launched here are added to the stores after the loop: adding during it could grow the arrays
        // behind the spans being iterated.
        var launches = 0;
        for (var i = 0; i < fighters.Length; i++)
        {
            ref var fighter = ref fighters[i];
            if (fighter.Pending == InputButtons.None)
            {
                continue;
            }
            var actions = fighter.Pending;
            fighter.Pending = InputButtons.None;
            var shooter = entities[i];
            ref readonly var body = ref _bodies.Get(shooter);
            if (body.Health <= 0)
            {
                continue;
            }
            var (dx, dy) = IntegerMath.Normalize(fighter.AimX, fighter.AimY, 1000);
            if ((actions & InputButtons.Fire) != 0 && fighter.FireReadyTick <= tick && (dx != 0 || dy != 0))
            {
                fighter.FireReadyTick = tick + _rules.RifleCooldown;
                Hitscan(tick, shooter, fighter.Player, body, dx, dy, fighter.ViewTick);
            }
            if ((actions & InputButtons.Ability1) != 0 && fighter.RocketReadyTick <= tick && (dx != 0 || dy != 0))
            {
                fighter.RocketReadyTick = tick + _rules.RocketCooldown;
                EnsureDoomed(launches + 1);
                _doomed[launches++] = i;
            }
            if ((actions & InputButtons.Ability2) != 0 && fighter.BlastReadyTick <= tick)
            {
                fighter.BlastReadyTick = tick + _rules.BlastCooldown;
                Blast(shooter, fighter.Player, body);
            }
        }
        for (var l = 0; l < launches; l++)
        {
            var index = _doomed[l];
            var shooter = _fighters.Entities[index];
            ref readonly var fighter = ref _fighters.Dense[index];
            var (dx, dy) = IntegerMath.Normalize(fighter.AimX, fighter.AimY, 1000);
            var body = _bodies.Get(shooter);
            var rocket = _entities.Create();
            _bodies.Add(rocket, new Body { X = body.X, Y = body.Y, Kind = EntityKind.Projectile, Team = body.Team, Health = 1 });
            _projectiles.Add(rocket, new Projectile
            {
                VelocityX = new Fix((int)((long)_rules.RocketSpeed.Raw * dx / 1000)),
                VelocityY = new Fix((int)((long)_rules.RocketSpeed.Raw * dy / 1000)),
                OwnerEntity = shooter,
                OwnerPlayer = fighter.Player,
                OwnerTeam = body.Team,
                ExpireTick = tick + _rules.RocketLifetime,
            });
        }
    }

    /// <summary>
    /// A rifle shot from where the shooter is now, against every fighter where it was at the tick the shooter was
    /// looking at (clamped to the last <see cref="CombatRules.RewindTicks"/> ticks): the nearest one the ray passes
    /// within a fighter's radius of, if no wall comes first and it is in range.
    /// </summary>
    private void Hitscan(int tick, int shooter, int player, in Body origin, int dx, int dy, int viewTick)
    {
        var rewound = Math.Clamp(viewTick, Math.Max(0, tick - CombatRules.RewindTicks), tick - 1);
        var frame = _history.Get(rewound) ?? _history.Get(tick - 1)!;
        long ox = origin.X.Raw;
        long oy = origin.Y.Raw;
        var nearest = Math.Min(CombatRules.RifleRange.Raw, WallDistance(ox, oy, dx, dy));
        long radiusSquared = (long)CombatRules.FighterRadius.Raw * CombatRules.FighterRadius.Raw;
        var target = 0;
        for (var i = 0; i < frame.Count; i++)
        {
            ref readonly var then = ref frame.States[i];
            if (then.Id == shooter || then.Kind == EntityKind.Projectile || then.Health <= 0 || (origin.Team != 0 && then.Team == origin.Team))
            {
                continue;
            }
            var rx = then.X - ox;
            var ry = then.Y - oy;
            var along = (rx * dx + ry * dy) / 1000;
            if (along < 0 || along > nearest)
            {
                continue;
            }
            if (rx * rx + ry * ry - along * along > radiusSquared)
            {
                continue;
            }
            ref readonly var now = ref _bodies.TryGet(then.Id);
            if (Unsafe.IsNullRef(in now) || now.Health <= 0)
            {
                continue;
            }
            nearest = along;
            target = then.Id;
        }
        if (target != 0)
        {
            AddDamage(new PendingDamage(target, player, CombatRules.RifleDamage, Weapon.Rifle));
        }
    }

    /// <summary>How far along the ray (raw fixed-point) the first wall is; <see cref="long.MaxValue"/> when none.</summary>
    private long WallDistance(long ox, long oy, int dx, int dy)
    {
        var best = long.MaxValue;
        for (var i = 0; i < _map.Obstacles.Length; i++)
        {
            ref readonly var o = ref _map.Obstacles[i];
            long enter = long.MinValue;
            long exit = long.MaxValue;
            if (!Slab(ox, dx, (long)o.MinX << Fix.FractionBits, (long)o.MaxX << Fix.FractionBits, ref enter, ref exit) ||
                !Slab(oy, dy, (long)o.MinY << Fix.FractionBits, (long)o.MaxY << Fix.FractionBits, ref enter, ref exit))
            {
                continue;
            }
            if (enter <= exit && exit >= 0)
            {
                best = Math.Min(best, Math.Max(0, enter));
            }
        }
        return best;
    }

    private static bool Slab(long origin, int direction, long min, long max, ref long enter, ref long exit)
    {
        if (direction == 0)
        {
            return origin > min && origin < max;
        }
        var t1 = (min - origin) * 1000 / direction;
        var t2 = (max - origin) * 1000 / direction;
        if (t1 > t2)
        {
            (t1, t2) = (t2, t1);
        }
        enter = Math.Max(enter, t1);
        exit = Math.Min(exit, t2);
        return true;
    }

    private void Blast(int shooter, int player, in Body origin)
    {
        var reach = (long)(CombatRules.BlastRadius + CombatRules.FighterRadius).Raw;
        var fighters = _fighters.Entities;
        for (var i = 0; i < fighters.Length; i++)
        {
            var target = fighters[i];
            if (target == shooter)
            {
                continue;
            }
            ref readonly var body = ref _bodies.Get(target);
            if (body.Health <= 0 || (origin.Team != 0 && body.Team == origin.Team))
            {
                continue;
            }
            long rx = body.X.Raw - origin.X.Raw;
            long ry = body.Y.Raw - origin.Y.Raw;
            if (rx * rx + ry * ry <= reach * reach)
            {
                AddDamage(new PendingDamage(target, player, CombatRules.BlastDamage, Weapon.Blast));
            }
        }
    }

    /// <summary>Rockets fly straight; they end on a wall, the map's edge, their lifetime, or the first fighter they touch.</summary>
    private void MoveProjectiles(int tick)
    {
        var projectiles = _projectiles.Dense;
        var entities = _projectiles.Entities;
        var doomed = 0;
        var reach = (long)(CombatRules.RocketRadius + CombatRules.FighterRadius).Raw;
        for (var i = 0; i < projectiles.Length; i++)
        {
            ref readonly var rocket = ref projectiles[i];
            ref var body = ref _bodies.Get(entities[i]);
            body.X += rocket.VelocityX;
            body.Y += rocket.VelocityY;
            var ends = tick >= rocket.ExpireTick || !_map.InBounds(body.X, body.Y, CombatRules.RocketRadius) || _map.Blocked(body.X, body.Y, CombatRules.RocketRadius);
            if (!ends)
            {
                var fighters = _fighters.Entities;
                for (var f = 0; f < fighters.Length; f++)
                {
                    var target = fighters[f];
                    if (target == rocket.OwnerEntity)
                    {
                        continue;
                    }
                    ref readonly var other = ref _bodies.Get(target);
                    if (other.Health <= 0 || (rocket.OwnerTeam != 0 && other.Team == rocket.OwnerTeam))
                    {
                        continue;
                    }
                    long rx = other.X.Raw - body.X.Raw;
                    long ry = other.Y.Raw - body.Y.Raw;
                    if (rx * rx + ry * ry <= reach * reach)
                    {
                        AddDamage(new PendingDamage(target, rocket.OwnerPlayer, CombatRules.RocketDamage, Weapon.Rocket));
                        ends = true;
                        break;
                    }
                }
            }
            if (ends)
            {
                EnsureDoomed(doomed + 1);
                _doomed[doomed++] = entities[i];
            }
        }
        for (var i = 0; i < doomed; i++)
        {
            Destroy(_doomed[i]);
        }
    }

    private void AddDamage(in PendingDamage hit)
    {
        if (_damageCount == _damage.Length)
        {
            Array.Resize(ref _damage, _damage.Length * 2);
        }
        _damage[_damageCount++] = hit;
    }

    private void EnsureDoomed(int count)
    {
        if (count > _doomed.Length)
        {
            Array.Resize(ref _doomed, _doomed.Length * 2);
        }
    }

    /// <summary>The positions a hitscan at <paramref name="tick"/> would use for a view tick (for tests of the rewind bound).</summary>
    internal Frame? RewindFrame(int tick, int viewTick) =>
        _history.Get(Math.Clamp(viewTick, Math.Max(0, tick - CombatRules.RewindTicks), tick - 1));
}
