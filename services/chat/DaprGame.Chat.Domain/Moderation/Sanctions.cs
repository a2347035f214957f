namespace DaprGame.Chat.Domain.Moderation;

/// <summary>A mute or ban: by whom, why, and until when (null: no expiry).</summary>
public sealed record SanctionEntry(string By, DateTimeOffset At, DateTimeOffset? Until, string? Reason)
{
    /// <summary>Active until <see cref="Until"/>; an expired sanction stops applying without anyone lifting it.</summary>
    public bool IsActive(DateTimeOffset now) => Until is not { } until || now < until;
}

/// <summary>A channel's mutes and bans, stored together and written only when one changes.</summary>
public sealed record ChannelSanctions
{
    public Dictionary<string, SanctionEntry> Mutes { get; init; } = new(StringComparer.Ordinal);

    public Dictionary<string, SanctionEntry> Bans { get; init; } = new(StringComparer.Ordinal);

    public bool IsMuted(string playerId, DateTimeOffset now) => Mutes.TryGetValue(playerId, out var s) && s.IsActive(now);

    public bool IsBanned(string playerId, DateTimeOffset now) => Bans.TryGetValue(playerId, out var s) && s.IsActive(now);

    /// <summary>Forgets expired sanctions; true when any was removed.</summary>
    public bool Prune(DateTimeOffset now)
    {
        var removed = false;
        foreach (var map in new[] { Mutes, Bans })
        {
            foreach (var key in map.Where(p => !p.Value.IsActive(now)).Select(p => p.Key).ToList())
            {
                removed |= map.Remove(key);
            }
        }
        return removed;
    }
}

/// <summary>A member's report of a message, queued for the channel's moderators.</summary>
public sealed record ChannelReport(string ReportId, string ReporterId, long Offset, string Reason, DateTimeOffset At, string? SenderId, string? Text);
