namespace DaprGame.Combat.Domain;

/// <summary>What an entity is, as snapshots tell it.</summary>
public enum EntityKind : byte
{
    Player = 1,
    Bot = 2,
    Projectile = 3,
}

/// <summary>
/// An entity as a client sees it. <see cref="X"/> and <see cref="Y"/> are in sixteenths of a world unit (the
/// snapshot quantisation: the simulation's Q16.16 position shifted right by 12), so 16 = one world unit.
/// <see cref="Team"/> is 0 for bots, projectiles without a team and every player in deathmatch.
/// </summary>
public readonly record struct EntityView(int Id, EntityKind Kind, int Team, int X, int Y, int Health);
