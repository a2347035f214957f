using Dapr;
using Dapr.Client;
using DaprGame.Contracts;

namespace DaprGame.Combat.Infrastructure;

/// <summary>What an ended match leaves to replay it: the setup, the simulation's log and every tick's hash.</summary>
public sealed record StoredReplay(
    string MatchId,
    string Mode,
    string Map,
    int TickRate,
    ulong Seed,
    int MaxPlayers,
    int DurationTicks,
    int ScoreLimit,
    int Bots,
    int Ticks,
    ulong FinalHash,
    byte[] Log,
    List<ulong> Hashes,
    DateTimeOffset StoredAt);

/// <summary>Replays in the state store, one plain key per match (<c>combat-replay-{matchId}</c>), written once at the end.</summary>
public sealed class ReplayStore(DaprClient dapr)
{
    public static string Key(string matchId) => "combat-replay-" + matchId;

    public Task SaveAsync(StoredReplay replay, CancellationToken cancellationToken) =>
        dapr.SaveStateAsync(Components.StateStore, Key(replay.MatchId), replay, cancellationToken: cancellationToken);

    public async Task<StoredReplay?> GetAsync(string matchId, CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<StoredReplay?>(Components.StateStore, Key(matchId), cancellationToken: cancellationToken);
}

/// <summary>
/// The admin list of matches: one state key with the newest <see cref="Kept"/> entries, updated with ETags so two
/// replicas creating matches at once both land.
/// </summary>
public sealed class MatchDirectory(DaprClient dapr)
{
    public const string Key = "combat-matches";
    private const int Kept = 500;

    public async Task AddAsync(DaprGame.Contracts.Combat.MatchSummary summary, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var (list, etag) = await dapr.GetStateAndETagAsync<List<DaprGame.Contracts.Combat.MatchSummary>?>(Components.StateStore, Key, cancellationToken: cancellationToken);
            list ??= [];
            if (list.Any(m => m.MatchId == summary.MatchId))
            {
                return;
            }
            list.Insert(0, summary);
            if (list.Count > Kept)
            {
                list.RemoveRange(Kept, list.Count - Kept);
            }
            var saved = string.IsNullOrEmpty(etag)
                ? await TryCreateAsync(list, cancellationToken)
                : await dapr.TrySaveStateAsync(Components.StateStore, Key, list, etag, cancellationToken: cancellationToken);
            if (saved)
            {
                return;
            }
        }
        throw new InvalidOperationException("the match directory kept changing; the match exists but is not listed");
    }

    public async Task<List<DaprGame.Contracts.Combat.MatchSummary>> ListAsync(CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<List<DaprGame.Contracts.Combat.MatchSummary>?>(Components.StateStore, Key, cancellationToken: cancellationToken) ?? [];

    private async Task<bool> TryCreateAsync(List<DaprGame.Contracts.Combat.MatchSummary> list, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.SaveStateAsync(Components.StateStore, Key, list, new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, cancellationToken: cancellationToken);
            return true;
        }
        catch (DaprException)
        {
            return false;
        }
    }
}
