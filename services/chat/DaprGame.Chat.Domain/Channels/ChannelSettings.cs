namespace DaprGame.Chat.Domain.Channels;

/// <summary>Limits and moderation settings every channel applies (configuration section <c>Chat</c>).</summary>
public sealed record ChannelSettings
{
    /// <summary>How many of the most recent events a channel keeps (and pages history from).</summary>
    public int HistoryWindow { get; init; } = 1000;

    public int MaxTextLength { get; init; } = 2000;

    public int MaxPageSize { get; init; } = 200;

    public int DefaultPageSize { get; init; } = 50;

    /// <summary>Reports queued for moderators; the oldest is dropped beyond this.</summary>
    public int MaxReports { get; init; } = 500;

    /// <summary>A presence entry drops off after this unless refreshed (a dead gateway stops refreshing).</summary>
    public TimeSpan PresenceLease { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Sustained posts per second per player per channel.</summary>
    public double RatePerSecond { get; init; } = 5;

    /// <summary>Posts a player may make at once before the rate applies.</summary>
    public int RateBurst { get; init; } = 10;

    public Moderation.ContentFilter Filter { get; init; } = Moderation.ContentFilter.None;
}
