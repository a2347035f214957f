namespace DaprGame.Combat.Domain;

/// <summary>
/// Server-side knobs that do not change the rules: the anti-cheat limits and the interest radius. They decide which
/// inputs are accepted and what each client is sent, never how an accepted input plays out, so a replay (which
/// carries only accepted inputs) does not need them.
/// </summary>
public sealed record SimulationOptions
{
    /// <summary>Inputs accepted per player per tick; more are <see cref="InputVerdict.RejectedFlood"/>.</summary>
    public int MaxInputsPerTick { get; init; } = 2;

    /// <summary>How far past the next tick an input's <see cref="PlayerInput.Tick"/> may be before it is <see cref="InputVerdict.RejectedFuture"/>.</summary>
    public int FutureTicks { get; init; } = 4;

    /// <summary>How far before the next tick an input's tick may be before it is <see cref="InputVerdict.RejectedStale"/>.</summary>
    public int StaleTicks { get; init; } = 32;

    /// <summary>A player's refused inputs (clamped ones do not count) raise <see cref="CheatFlagged"/> at this count…</summary>
    public int CheatFlagThreshold { get; init; } = 20;

    /// <summary>…and again after every further this many.</summary>
    public int CheatFlagRepeat { get; init; } = 100;

    /// <summary>Radius in world units around a player's entity inside which other entities are sent to that player.</summary>
    public int InterestRadius { get; init; } = 48;

    internal string? Validate() =>
        MaxInputsPerTick is < 1 or > 60 ? "MaxInputsPerTick must be 1–60"
        : FutureTicks is < 0 or > 60 ? "FutureTicks must be 0–60"
        : StaleTicks is < 1 or > 600 ? "StaleTicks must be 1–600"
        : CheatFlagThreshold < 1 || CheatFlagRepeat < 1 ? "cheat flag counts must be positive"
        : InterestRadius is < 4 or > 4096 ? "InterestRadius must be 4–4096 world units"
        : null;
}
