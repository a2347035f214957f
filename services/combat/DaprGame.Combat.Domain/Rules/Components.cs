using DaprGame.Combat.Domain.FixedPoint;

namespace DaprGame.Combat.Domain.Rules;

/// <summary>Where an entity is and what it is; every entity has one. Health 0 means dead (waiting to respawn).</summary>
internal struct Body
{
    public Fix X;
    public Fix Y;
    public EntityKind Kind;
    public int Team;
    public int Health;
}

/// <summary>Movement: a wish vector (each axis −1000…1000, length at most 1000) and the top speed per tick.</summary>
internal struct Mover
{
    public int WishX;
    public int WishY;
    public Fix SpeedPerTick;
}

/// <summary>
/// A fighter (player or bot): when each weapon is next ready, what the last input asked for this tick, and who
/// controls it (player index, or −1 for a bot with its ordinal in <see cref="BotNumber"/>).
/// </summary>
internal struct Fighter
{
    public int Player;
    public int BotNumber;
    public int FireReadyTick;
    public int RocketReadyTick;
    public int BlastReadyTick;
    public int RespawnTick;
    public InputButtons Pending;
    public int AimX;
    public int AimY;
    public int ViewTick;
    public int WanderTicks;
}

/// <summary>A rocket in flight: velocity per tick, who fired it, when it burns out.</summary>
internal struct Projectile
{
    public Fix VelocityX;
    public Fix VelocityY;
    public int OwnerEntity;
    public int OwnerPlayer;
    public int OwnerTeam;
    public int ExpireTick;
}

/// <summary>One hit waiting for the damage system, in the order the weapon systems produced them.</summary>
internal readonly record struct PendingDamage(int Target, int AttackerPlayer, int Amount, Weapon Weapon);

internal enum Weapon : byte
{
    Rifle,
    Rocket,
    Blast,
}
