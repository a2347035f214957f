using DaprGame.Chat.Domain.Channels;
using DaprGame.Chat.Domain.Moderation;

namespace DaprGame.Chat.Infrastructure;

/// <summary>
/// The <c>Chat</c> configuration section: <c>DefaultRooms</c> (default lobby, trade, help), <c>HistoryWindow</c>
/// (1000), <c>PresenceLease</c> (00:01:30), <c>RateLimit:PerSecond</c> (5), <c>RateLimit:Burst</c> (10), <c>MaxReports</c> (500),
/// <c>Moderation:Blocklist</c> (words) and <c>Moderation:FilterMode</c> (<c>mask</c> or <c>reject</c>).
/// </summary>
public sealed class ChatOptions
{
    public static readonly string[] BuiltInRooms = ["lobby", "trade", "help"];

    public required ChannelSettings Channel { get; init; }

    /// <summary>Room names that exist without being created.</summary>
    public required IReadOnlySet<string> DefaultRooms { get; init; }

    public static ChatOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Chat");
        var defaults = new ChannelSettings();
        var rooms = section.GetSection("DefaultRooms").Get<string[]>() is { Length: > 0 } configured ? configured : BuiltInRooms;
        var invalid = rooms.Where(r => !ChannelIds.IsValidRoomName(r)).ToList();
        if (invalid.Count > 0)
        {
            throw new InvalidOperationException($"Chat:DefaultRooms: {string.Join(", ", invalid)} is not a room name (1-32 of [a-z0-9-])");
        }
        var modeText = section["Moderation:FilterMode"] ?? "mask";
        if (!Enum.TryParse<FilterMode>(modeText, ignoreCase: true, out var mode) || !Enum.IsDefined(mode))
        {
            throw new InvalidOperationException($"Chat:Moderation:FilterMode must be mask or reject, not '{modeText}'");
        }
        var blocklist = section.GetSection("Moderation:Blocklist").Get<string[]>() ?? [];
        var settings = defaults with
        {
            HistoryWindow = Positive(section, "HistoryWindow", defaults.HistoryWindow),
            MaxReports = Positive(section, "MaxReports", defaults.MaxReports),
            RateBurst = Positive(section, "RateLimit:Burst", defaults.RateBurst),
            RatePerSecond = section.GetValue("RateLimit:PerSecond", defaults.RatePerSecond) is > 0 and var rate ? rate
                : throw new InvalidOperationException("Chat:RateLimit:PerSecond must be above 0"),
            PresenceLease = section.GetValue("PresenceLease", defaults.PresenceLease) is { Ticks: > 0 } lease ? lease
                : throw new InvalidOperationException("Chat:PresenceLease must be above 0"),
            Filter = new ContentFilter(blocklist, mode),
        };
        return new ChatOptions { Channel = settings, DefaultRooms = rooms.ToHashSet(StringComparer.Ordinal) };
    }

    private static int Positive(IConfigurationSection section, string key, int fallback) =>
        section.GetValue(key, fallback) is > 0 and var value ? value
            : throw new InvalidOperationException($"Chat:{key} must be above 0");
}
