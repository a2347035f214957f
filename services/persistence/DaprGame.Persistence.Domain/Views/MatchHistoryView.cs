using System.Collections.Immutable;
using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>One match in a player's history.</summary>
public sealed record MatchEntry(string MatchId, DateTimeOffset EndedAt, string Reason, long Team, long Score, long Kills, long Deaths, bool Won);

/// <summary>Per player, the matches they played, in log order, from <c>combat.match.ended.v1</c>.</summary>
public sealed class MatchHistoryView : View
{
    private readonly SortedDictionary<string, ImmutableList<MatchEntry>> _history = new(StringComparer.Ordinal);

    public MatchHistoryView()
    {
    }

    /// <summary>A view holding <paramref name="state"/>, as read back from a stored snapshot's <see cref="State"/>.</summary>
    public MatchHistoryView(IEnumerable<KeyValuePair<string, ImmutableList<MatchEntry>>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (key, value) in state)
        {
            _history[key] = value;
        }
    }

    /// <summary>The whole state (matches per player), for the host to serialise; values are immutable.</summary>
    public IReadOnlyDictionary<string, ImmutableList<MatchEntry>> State => _history;

    public override string Name => "match-history";

    public IReadOnlyList<MatchEntry> For(string playerId) => _history.GetValueOrDefault(playerId) ?? [];

    public override bool Handles(string eventType) => eventType == PlayerProfilesView.MatchEnded;

    public override void Apply(LogRecord record, JsonElement data)
    {
        var ended = MatchResult.Read(data);
        foreach (var p in ended.Players)
        {
            var entry = new MatchEntry(ended.MatchId, record.OccurredAt, ended.Reason, p.Team, p.Score, p.Kills, p.Deaths, ended.Winners.Contains(p.PlayerId));
            _history[p.PlayerId] = (_history.GetValueOrDefault(p.PlayerId) ?? []).Add(entry);
        }
    }

    public override void Clear() => _history.Clear();

    public override View Clone() => new MatchHistoryView(_history);

    protected override void WriteContent(ContentHasher hasher)
    {
        foreach (var (player, matches) in _history)
        {
            hasher.Add(player).Add(matches.Count);
            foreach (var m in matches)
            {
                hasher.Add(m.MatchId).Add(m.EndedAt).Add(m.Reason).Add(m.Team).Add(m.Score).Add(m.Kills).Add(m.Deaths).Add(m.Won);
            }
        }
    }
}
