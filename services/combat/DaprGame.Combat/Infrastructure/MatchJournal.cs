using Dapr;
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
/// The last checkpoint of a running match: its journal chunks in order, the tick and state hash they lead to, the last
/// event sequence used, and how many takeovers the match has had (its epoch).
/// </summary>
public sealed record JournalHead(List<string> Chunks, int Tick, ulong Hash, long EventSequence, int Epoch);

/// <summary>
/// The host's journal of a running match, saved in chunks (<c>combat-journal-{matchId}-{epoch}-{n}</c>, then the head
/// <c>combat-journal-{matchId}</c>) every few ticks. Because the simulation is deterministic, calling a new one with the
/// same joins, leaves and inputs at the same ticks rebuilds the match exactly: that is how another replica takes over
/// a match whose replica went away, losing at most the ticks since the last checkpoint. The head is written with its
/// ETag, which fences the loops: a loop whose head was rewritten by someone else (a takeover) no longer owns the match.
/// </summary>
public sealed class MatchJournal(DaprClient dapr)
{
    public static string HeadKey(string matchId) => "combat-journal-" + matchId;

    public static string ChunkKey(string matchId, int epoch, int chunk) => $"combat-journal-{matchId}-{epoch}-{chunk}";

    /// <summary>
    /// Saves a chunk, then the head if it is still the one this loop last wrote (<paramref name="etag"/>; null: there is
    /// none yet). Returns the head's new ETag, or null when another loop has written the head since.
    /// </summary>
    public async Task<string?> SaveAsync(string matchId, string chunkKey, List<JournalEntry> entries, JournalHead head, string? etag, CancellationToken cancellationToken)
    {
        await dapr.SaveStateAsync(Components.StateStore, chunkKey, entries, cancellationToken: cancellationToken);
        bool saved;
        if (etag is null)
        {
            try
            {
                await dapr.SaveStateAsync(Components.StateStore, HeadKey(matchId), head,
                    new StateOptions { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong }, cancellationToken: cancellationToken);
                saved = true;
            }
            catch (DaprException)
            {
                saved = false;
            }
        }
        else
        {
            saved = await dapr.TrySaveStateAsync(Components.StateStore, HeadKey(matchId), head, etag, cancellationToken: cancellationToken);
        }
        if (!saved)
        {
            return null;
        }
        var (_, fresh) = await dapr.GetStateAndETagAsync<JournalHead?>(Components.StateStore, HeadKey(matchId), cancellationToken: cancellationToken);
        return fresh;
    }

    /// <summary>
    /// The match ended (its replay holds everything): the journal goes, head and chunks in one state transaction (a long
    /// match has a chunk per checkpoint; deleting them one call at a time held the owner's end call for seconds).
    /// </summary>
    public Task DeleteAsync(string matchId, IEnumerable<string> chunks, CancellationToken cancellationToken) =>
        dapr.ExecuteStateTransactionAsync(Components.StateStore,
            [.. chunks.Prepend(HeadKey(matchId)).Select(key => new StateTransactionRequest(key, null, StateOperationType.Delete))],
            cancellationToken: cancellationToken);

    public async Task<(JournalHead Head, List<JournalEntry> Entries, string ETag)?> LoadAsync(string matchId, CancellationToken cancellationToken)
    {
        var (head, etag) = await dapr.GetStateAndETagAsync<JournalHead?>(Components.StateStore, HeadKey(matchId), cancellationToken: cancellationToken);
        if (head is null)
        {
            return null;
        }
        var entries = new List<JournalEntry>();
        foreach (var chunk in head.Chunks)
        {
            entries.AddRange(await dapr.GetStateAsync<List<JournalEntry>?>(Components.StateStore, chunk, cancellationToken: cancellationToken) ?? []);
        }
        return (head, entries, etag);
    }
}
