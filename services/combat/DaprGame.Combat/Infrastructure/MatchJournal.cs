using Dapr.Client;
using DaprGame.Combat.Domain;
using DaprGame.Contracts;

namespace DaprGame.Combat.Infrastructure;

public enum JournalKind
{
    Join,
    Leave,
    Input,
}

/// <summary>One call the host made into a simulation, at the tick it was made (before that tick's step).</summary>
public sealed record JournalEntry(int Tick, JournalKind Kind, string PlayerId, int Team = 0, PlayerInput? Input = null);

/// <summary>
/// The last checkpoint of a running match: how many journal chunks there are, the tick and state hash they lead to,
/// the last event sequence used, and how many takeovers the match has had (its epoch).
/// </summary>
public sealed record JournalHead(int Chunks, int Tick, ulong Hash, long EventSequence, int Epoch);

/// <summary>
/// The host's journal of a running match, saved in chunks (<c>combat-journal-{matchId}-{n}</c>, then the head
/// <c>combat-journal-{matchId}</c>) every few ticks. Because the simulation is deterministic, calling a new one with the
/// same joins, leaves and inputs at the same ticks rebuilds the match exactly: that is how another replica takes over
/// a match whose replica went away, losing at most the ticks since the last checkpoint.
/// </summary>
public sealed class MatchJournal(DaprClient dapr)
{
    public static string HeadKey(string matchId) => "combat-journal-" + matchId;

    public static string ChunkKey(string matchId, int chunk) => $"combat-journal-{matchId}-{chunk}";

    /// <summary>Chunk first, head second: a head never names a chunk that is not stored.</summary>
    public async Task SaveAsync(string matchId, int chunk, List<JournalEntry> entries, JournalHead head, CancellationToken cancellationToken)
    {
        await dapr.SaveStateAsync(Components.StateStore, ChunkKey(matchId, chunk), entries, cancellationToken: cancellationToken);
        await dapr.SaveStateAsync(Components.StateStore, HeadKey(matchId), head, cancellationToken: cancellationToken);
    }

    /// <summary>The match ended (its replay holds everything): the journal goes.</summary>
    public async Task DeleteAsync(string matchId, int chunks, CancellationToken cancellationToken)
    {
        await dapr.DeleteStateAsync(Components.StateStore, HeadKey(matchId), cancellationToken: cancellationToken);
        for (var i = 0; i < chunks; i++)
        {
            await dapr.DeleteStateAsync(Components.StateStore, ChunkKey(matchId, i), cancellationToken: cancellationToken);
        }
    }

    public async Task<(JournalHead Head, List<JournalEntry> Entries)?> LoadAsync(string matchId, CancellationToken cancellationToken)
    {
        var head = await dapr.GetStateAsync<JournalHead?>(Components.StateStore, HeadKey(matchId), cancellationToken: cancellationToken);
        if (head is null)
        {
            return null;
        }
        var entries = new List<JournalEntry>();
        for (var i = 0; i < head.Chunks; i++)
        {
            entries.AddRange(await dapr.GetStateAsync<List<JournalEntry>?>(Components.StateStore, ChunkKey(matchId, i), cancellationToken: cancellationToken) ?? []);
        }
        return (head, entries);
    }
}
