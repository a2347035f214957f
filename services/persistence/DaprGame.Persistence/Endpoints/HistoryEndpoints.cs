using DaprGame.Contracts.Persistence;
using DaprGame.Persistence.Ingest;

namespace DaprGame.Persistence.Endpoints;

/// <summary>
/// The views, read. The gateway calls these for players with the verified player id in the path (a player's own
/// profile, matches and trades) and only after chat confirmed membership (a channel's messages); these routes trust
/// their caller, so they are reachable by service invocation only (app API token in production), never from outside.
/// Every answer reflects the views at their watermark.
/// </summary>
public static class HistoryEndpoints
{
    private const int MaxLimit = 200;

    public static IEndpointRouteBuilder MapHistory(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").WithTags("history");
        group.MapGet("/players/{playerId}/profile", (string playerId, LogKeeper keeper) => Results.Ok(keeper.Read(v =>
        {
            // A player the log has not seen yet has an empty profile, not an error.
            var profile = v.Profiles.Find(playerId);
            return new
            {
                playerId,
                assets = (object?)profile?.Assets ?? new Dictionary<string, object>(),
                inventoryCount = profile?.InventoryCount ?? 0,
                matches = profile?.Matches ?? 0,
                wins = profile?.Wins ?? 0,
                kills = profile?.Kills ?? 0,
                deaths = profile?.Deaths ?? 0,
                score = profile?.Score ?? 0,
                watermark = v.Watermark,
            };
        })));
        group.MapGet("/players/{playerId}/matches", (string playerId, int? limit, LogKeeper keeper) =>
            Limit(limit) is { } n ? Results.Ok(keeper.Read(v => Newest(v.Matches.For(playerId), n))) : BadLimit());
        group.MapGet("/players/{playerId}/trades", (string playerId, int? limit, LogKeeper keeper) =>
            Limit(limit) is { } n ? Results.Ok(keeper.Read(v => Newest(v.Trades.For(playerId), n))) : BadLimit());
        group.MapGet("/channels/{channelId}/messages", (string channelId, long? from, int? limit, LogKeeper keeper) =>
        {
            if (Limit(limit) is not { } n)
            {
                return BadLimit();
            }
            if (from is < 0)
            {
                return Problem(StatusCodes.Status400BadRequest, "invalid", "from is an offset ≥ 0");
            }
            return Results.Ok(keeper.Read(v => new ChannelMessagesPage(channelId, from ?? 0, v.Watermark,
                [.. v.Chat.Page(channelId, from ?? 0, n).Select(m => new StoredChatMessage(m.Offset, m.SenderId, m.Text, m.PostedAt, m.Edited, m.Deleted))])));
        });
        group.MapGet("/instruments/{instrument}/candles", (string instrument, int? limit, LogKeeper keeper) =>
            Limit(limit) is { } n ? Results.Ok(keeper.Read(v => Newest(v.Candles.For(instrument), n))) : BadLimit());
        return routes;
    }

    /// <summary>The newest <paramref name="limit"/> entries, newest first.</summary>
    private static List<T> Newest<T>(IReadOnlyList<T> entries, int limit)
    {
        var result = new List<T>(Math.Min(limit, entries.Count));
        for (var i = entries.Count - 1; i >= 0 && result.Count < limit; i--)
        {
            result.Add(entries[i]);
        }
        return result;
    }

    private static int? Limit(int? limit) => limit switch
    {
        null => 50,
        >= 1 and <= MaxLimit => limit,
        _ => null,
    };

    private static IResult BadLimit() => Problem(StatusCodes.Status400BadRequest, "invalid", $"limit is 1–{MaxLimit}");

    internal static IResult Problem(int status, string code, string detail) =>
        Results.Problem(statusCode: status, title: code, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });
}
