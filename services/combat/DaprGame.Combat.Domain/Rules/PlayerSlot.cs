namespace DaprGame.Combat.Domain.Rules;

/// <summary>
/// A player of the match, kept after they leave so their stats stay in the result. The first group of fields is
/// simulation state (hashed, replayed); the second is the input gate's bookkeeping between steps, which a refused
/// input may touch without changing the match.
/// </summary>
internal sealed class PlayerSlot(string id, int index, int team)
{
    public string Id { get; } = id;

    /// <summary>Join order; the log names players by it.</summary>
    public int Index { get; } = index;

    public int Team { get; set; } = team;

    public int Entity { get; set; }

    public bool Active { get; set; }

    public int Score { get; set; }

    public int Kills { get; set; }

    public int Deaths { get; set; }

    public int DamageDealt { get; set; }

    public uint LastProcessedSequence { get; set; }

    public uint LastAcceptedSequence { get; set; }

    public int QueuedThisTick { get; set; }

    public InputButtons QueuedButtons { get; set; }

    public long Refused { get; set; }
}
