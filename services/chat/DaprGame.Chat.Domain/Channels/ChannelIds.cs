using System.Security.Cryptography;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Domain.Channels;

/// <summary>
/// Channel and player id rules. Ids travel in URL paths and actor ids, so they are kept to URL-safe ASCII.
/// </summary>
public static class ChannelIds
{
    public const string RoomPrefix = "room-";
    public const string GroupPrefix = "group-";
    public const string DirectPrefix = "dm-";

    /// <summary>Room names: 1–32 of <c>[a-z0-9-]</c>.</summary>
    public static bool IsValidRoomName(string? name) =>
        name is { Length: >= 1 and <= 32 } && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    /// <summary>Player ids: 1–64 of <c>[A-Za-z0-9_.-]</c> (the gateway's ids: GUIDs, user names).</summary>
    public static bool IsValidPlayerId(string? id) =>
        id is { Length: >= 1 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    public static string Room(string name) => RoomPrefix + name;

    /// <summary>A new group id: 16 random hex digits, so ids cannot be guessed.</summary>
    public static string NewGroup() => GroupPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>The direct channel of two players: <c>dm-{a}-{b}</c> with a &lt; b (ordinal).</summary>
    public static string Direct(string playerA, string playerB) =>
        string.CompareOrdinal(playerA, playerB) < 0 ? $"{DirectPrefix}{playerA}-{playerB}" : $"{DirectPrefix}{playerB}-{playerA}";

    /// <summary>The kind a well-formed channel id names, or null when it names none.</summary>
    public static ChannelKind? KindOf(string? channelId)
    {
        if (channelId is null || channelId.Length > 140)
        {
            return null;
        }
        if (channelId.StartsWith(RoomPrefix, StringComparison.Ordinal))
        {
            return IsValidRoomName(channelId[RoomPrefix.Length..]) ? ChannelKind.Room : null;
        }
        if (channelId.StartsWith(GroupPrefix, StringComparison.Ordinal))
        {
            var rest = channelId[GroupPrefix.Length..];
            return rest.Length is >= 1 and <= 32 && rest.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)) ? ChannelKind.Group : null;
        }
        if (channelId.StartsWith(DirectPrefix, StringComparison.Ordinal))
        {
            var rest = channelId[DirectPrefix.Length..];
            return rest.Length >= 3 && rest.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') ? ChannelKind.Direct : null;
        }
        return null;
    }
}
