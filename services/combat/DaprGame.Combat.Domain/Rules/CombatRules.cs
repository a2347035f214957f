using DaprGame.Combat.Domain.FixedPoint;

namespace DaprGame.Combat.Domain.Rules;

/// <summary>
/// The numbers of the game, in seconds and world units, turned into ticks and per-tick fixed-point values for a
/// match's tick rate. Weapons: a hitscan rifle (Fire), a rocket (Ability1) and a blast around the player (Ability2).
/// </summary>
internal sealed class CombatRules
{
    public const int MaxHealth = 100;
    public const int RifleDamage = 20;
    public const int RocketDamage = 45;
    public const int BlastDamage = 30;

    /// <summary>Hitscan shots are checked against positions at most this many ticks old (lag compensation bound).</summary>
    public const int RewindTicks = 32;

    public static readonly Fix FighterRadius = Fix.Ratio(1, 2);
    public static readonly Fix RocketRadius = Fix.Ratio(1, 4);
    public static readonly Fix RifleRange = Fix.FromInt(60);
    public static readonly Fix BlastRadius = Fix.FromInt(5);

    public CombatRules(int tickRate)
    {
        TickRate = tickRate;
        PlayerSpeed = Fix.Ratio(8, tickRate);
        BotSpeed = Fix.Ratio(5, tickRate);
        RocketSpeed = Fix.Ratio(24, tickRate);
        RifleCooldown = Math.Max(1, tickRate / 4);
        RocketCooldown = tickRate * 2;
        BlastCooldown = tickRate * 4;
        RocketLifetime = tickRate * 2;
        RespawnDelay = tickRate * 2;
    }

    public int TickRate { get; }

    /// <summary>Top speed per tick: 8 world units per second for players, 5 for bots, 24 for rockets.</summary>
    public Fix PlayerSpeed { get; }

    public Fix BotSpeed { get; }

    public Fix RocketSpeed { get; }

    public int RifleCooldown { get; }

    public int RocketCooldown { get; }

    public int BlastCooldown { get; }

    public int RocketLifetime { get; }

    public int RespawnDelay { get; }

    /// <summary>Items a kill can drop, instruments the trading service knows, with their weight out of 10.</summary>
    public static readonly IReadOnlyList<(string Item, int Weight)> Loot = [("health-potion", 7), ("iron-sword", 3)];
}
