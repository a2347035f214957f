using System.Text.Json;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>The parts of <c>combat.match.ended.v1</c> the views use, read in full before any view changes.</summary>
internal sealed record MatchResult(string MatchId, string Reason, List<MatchResult.Player> Players, HashSet<string> Winners)
{
    internal sealed record Player(string PlayerId, long Team, long Score, long Kills, long Deaths);

    public static MatchResult Read(JsonElement data)
    {
        var players = new List<Player>();
        foreach (var p in JsonFields.Array(data, "players").EnumerateArray())
        {
            players.Add(new Player(
                JsonFields.String(p, "playerId"), JsonFields.Long(p, "team"), JsonFields.Long(p, "score"),
                JsonFields.Long(p, "kills"), JsonFields.Long(p, "deaths")));
        }
        var winners = new HashSet<string>(StringComparer.Ordinal);
        foreach (var w in JsonFields.Array(data, "winners").EnumerateArray())
        {
            winners.Add(w.GetString() ?? throw new FormatException("a winner is not a string"));
        }
        return new MatchResult(JsonFields.String(data, "matchId"), JsonFields.String(data, "reason"), players, winners);
    }
}
