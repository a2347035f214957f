using DaprGame.Combat.Domain.FixedPoint;

namespace DaprGame.Combat.Domain.Rules;

/// <summary>The state hash: every piece of simulation state, in dense-array and join order.</summary>
internal sealed partial class Match
{
    internal ulong ComputeHash()
    {
        var h = StateHasher.Create();
        h.Add(_tick);
        h.Add(_over ? 1 : 0);
        h.Add(_random.S0);
        h.Add(_random.S1);
        h.Add(_random.S2);
        h.Add(_random.S3);
        _entities.AddToHash(ref h);

        h.Add(_bodies.Count);
        var bodies = _bodies.Dense;
        var ids = _bodies.Entities;
        for (var i = 0; i < bodies.Length; i++)
        {
            ref readonly var b = ref bodies[i];
            h.Add(ids[i]);
            h.Add(((long)b.X.Raw << 32) | (uint)b.Y.Raw);
            h.Add(((long)b.Kind << 48) ^ ((long)b.Team << 24) ^ b.Health);
        }

        h.Add(_movers.Count);
        var movers = _movers.Dense;
        ids = _movers.Entities;
        for (var i = 0; i < movers.Length; i++)
        {
            ref readonly var m = ref movers[i];
            h.Add(ids[i]);
            h.Add(((long)m.WishX << 32) | (uint)m.WishY);
            h.Add(m.SpeedPerTick.Raw);
        }

        h.Add(_fighters.Count);
        var fighters = _fighters.Dense;
        ids = _fighters.Entities;
        for (var i = 0; i < fighters.Length; i++)
        {
            ref readonly var f = ref fighters[i];
            h.Add(ids[i]);
            h.Add(((long)f.Player << 32) | (uint)f.BotNumber);
            h.Add(((long)f.FireReadyTick << 32) | (uint)f.RocketReadyTick);
            h.Add(((long)f.BlastReadyTick << 32) | (uint)f.RespawnTick);
            h.Add(((long)f.AimX << 32) | (uint)f.AimY);
            h.Add(((long)f.ViewTick << 32) | (uint)f.WanderTicks);
            h.Add((long)f.Pending);
        }

        h.Add(_projectiles.Count);
        var projectiles = _projectiles.Dense;
        ids = _projectiles.Entities;
        for (var i = 0; i < projectiles.Length; i++)
        {
            ref readonly var p = ref projectiles[i];
            h.Add(ids[i]);
            h.Add(((long)p.VelocityX.Raw << 32) | (uint)p.VelocityY.Raw);
            h.Add(((long)p.OwnerEntity << 32) | (uint)p.OwnerPlayer);
            h.Add(((long)p.OwnerTeam << 32) | (uint)p.ExpireTick);
        }

        h.Add(_players.Count);
        foreach (var player in _players)
        {
            h.Add(((long)player.Entity << 32) | (uint)player.Team);
            h.Add(player.Active ? 1 : 0);
            h.Add(((long)player.Score << 32) | (uint)player.Kills);
            h.Add(((long)player.Deaths << 32) | (uint)player.DamageDealt);
            h.Add(player.LastProcessedSequence);
        }
        return h.Finish();
    }
}
