using System.Text.Json.Serialization;
using DaprGame.Contracts.Chat;

namespace DaprGame.Gateway.Realtime;

/// <summary>Which token bucket a request draws from (<see cref="RateLimitOptions"/>).</summary>
public enum RateClass
{
    Send,
    Join,
    Other,
}

/// <summary>
/// One client request, the same for the socket (the envelope's <c>data</c>) and the HTTP API (route and body).
/// <see cref="Validate"/> checks every field before anything is sent to chat, so a bad input changes nothing.
/// </summary>
public abstract class Command
{
    public abstract string Type { get; }

    public virtual RateClass RateClass => RateClass.Other;

    /// <summary>Null when valid; otherwise a message naming the offending field.</summary>
    public virtual string? Validate() => null;
}

public sealed class PingCommand : Command
{
    public const string Name = "ping";

    public override string Type => Name;
}

public sealed class ChannelsListCommand : Command
{
    public const string Name = "channels.list";

    public override string Type => Name;
}

public sealed class ChannelsMineCommand : Command
{
    public const string Name = "channels.mine";

    public override string Type => Name;
}

public sealed class ChannelCreateCommand : Command
{
    public const string Name = "channel.create";

    public ChannelKind? Kind { get; init; }

    [JsonPropertyName("name")]
    public string? ChannelName { get; init; }

    public override string Type => Name;

    public override RateClass RateClass => RateClass.Join;

    public override string? Validate() =>
        Kind is not (ChannelKind.Room or ChannelKind.Group) ? "kind must be \"room\" or \"group\""
        : Fields.Name(ChannelName, "name");
}

/// <summary>A command naming one channel.</summary>
public abstract class ChannelCommand : Command
{
    public string? ChannelId { get; init; }

    public override string? Validate() => Fields.Id(ChannelId, "channelId");
}

public sealed class ChannelGetCommand : ChannelCommand
{
    public const string Name = "channel.get";

    public override string Type => Name;
}

public sealed class ChannelJoinCommand : ChannelCommand
{
    public const string Name = "channel.join";

    public override string Type => Name;

    public override RateClass RateClass => RateClass.Join;
}

public sealed class ChannelLeaveCommand : ChannelCommand
{
    public const string Name = "channel.leave";

    public override string Type => Name;
}

public sealed class ChannelHistoryCommand : ChannelCommand
{
    public const string Name = "channel.history";

    public const int DefaultLimit = 50;

    public const int MaxLimit = 200;

    /// <summary>Events with an offset above this one (0: from the oldest held).</summary>
    public long? After { get; init; }

    public int? Limit { get; init; }

    public override string Type => Name;

    public override string? Validate() =>
        base.Validate()
        ?? (After is < 0 ? "after must be 0 or more"
        : Limit is < 1 or > MaxLimit ? $"limit must be 1 to {MaxLimit}"
        : null);
}

public sealed class MessageSendCommand : ChannelCommand
{
    public const string Name = "message.send";

    public string? ClientMessageId { get; init; }

    public string? Text { get; init; }

    public override string Type => Name;

    public override RateClass RateClass => RateClass.Send;

    public override string? Validate() =>
        base.Validate() ?? Fields.ClientMessageId(ClientMessageId) ?? Fields.Text(Text, "text");
}

public sealed class MessageEditCommand : ChannelCommand
{
    public const string Name = "message.edit";

    public long? Offset { get; init; }

    public string? Text { get; init; }

    public override string Type => Name;

    public override RateClass RateClass => RateClass.Send;

    public override string? Validate() => base.Validate() ?? Fields.Offset(Offset) ?? Fields.Text(Text, "text");
}

public sealed class MessageDeleteCommand : ChannelCommand
{
    public const string Name = "message.delete";

    public long? Offset { get; init; }

    public override string Type => Name;

    public override string? Validate() => base.Validate() ?? Fields.Offset(Offset);
}

public sealed class DirectSendCommand : Command
{
    public const string Name = "dm.send";

    public string? PlayerId { get; init; }

    public string? ClientMessageId { get; init; }

    public string? Text { get; init; }

    public override string Type => Name;

    public override RateClass RateClass => RateClass.Send;

    public override string? Validate() =>
        Fields.Id(PlayerId, "playerId") ?? Fields.ClientMessageId(ClientMessageId) ?? Fields.Text(Text, "text");
}

/// <summary>A command acting on one member of one channel.</summary>
public abstract class MemberCommand : ChannelCommand
{
    public string? PlayerId { get; init; }

    public override string? Validate() => base.Validate() ?? Fields.Id(PlayerId, "playerId");
}

public sealed class MemberInviteCommand : MemberCommand
{
    public const string Name = "member.invite";

    public override string Type => Name;
}

public sealed class MemberKickCommand : MemberCommand
{
    public const string Name = "member.kick";

    public override string Type => Name;
}

public sealed class MemberRoleCommand : MemberCommand
{
    public const string Name = "member.role";

    public ChannelRole? Role { get; init; }

    public override string Type => Name;

    public override string? Validate() =>
        base.Validate() ?? (Role is ChannelRole.Member or ChannelRole.Moderator ? null : "role must be \"member\" or \"moderator\"");
}

/// <summary>Mute or ban, optionally until a time and with a reason.</summary>
public abstract class SanctionCommand : MemberCommand
{
    public DateTimeOffset? Until { get; init; }

    public string? Reason { get; init; }

    public override string? Validate() => base.Validate() ?? Fields.OptionalReason(Reason);
}

public sealed class MuteCommand : SanctionCommand
{
    public const string Name = "mod.mute";

    public override string Type => Name;
}

public sealed class UnmuteCommand : MemberCommand
{
    public const string Name = "mod.unmute";

    public override string Type => Name;
}

public sealed class BanCommand : SanctionCommand
{
    public const string Name = "mod.ban";

    public override string Type => Name;
}

public sealed class UnbanCommand : MemberCommand
{
    public const string Name = "mod.unban";

    public override string Type => Name;
}

public sealed class PurgeCommand : MemberCommand
{
    public const string Name = "mod.purge";

    public override string Type => Name;
}

public sealed class ReportCreateCommand : ChannelCommand
{
    public const string Name = "report.create";

    public long? Offset { get; init; }

    public string? Reason { get; init; }

    public override string Type => Name;

    public override string? Validate() =>
        base.Validate() ?? Fields.Offset(Offset) ?? Fields.OptionalReason(Reason) ?? (string.IsNullOrWhiteSpace(Reason) ? "reason is required" : null);
}

public sealed class ReportsListCommand : ChannelCommand
{
    public const string Name = "reports.list";

    public override string Type => Name;
}

/// <summary>Where a resuming client is in one channel.</summary>
public sealed class ResumePosition
{
    public long? Epoch { get; init; }

    public long? Offset { get; init; }
}

/// <summary>Live L2 depth of an instrument on this socket: the reply is a depth snapshot, then <c>trading.book.delta.v1</c> pushes.</summary>
public sealed class MarketSubscribeCommand : Command
{
    public const string Name = "market.subscribe";

    public string? Instrument { get; init; }

    public override string Type => Name;

    public override RateClass RateClass => RateClass.Join;

    public override string? Validate() => Fields.Id(Instrument, "instrument");
}

public sealed class MarketUnsubscribeCommand : Command
{
    public const string Name = "market.unsubscribe";

    public string? Instrument { get; init; }

    public override string Type => Name;

    public override string? Validate() => Fields.Id(Instrument, "instrument");
}

public sealed class ResumeCommand : Command
{
    public const string Name = "resume";

    public const int MaxPositions = 1000;

    public string? ResumeToken { get; init; }

    public Dictionary<string, ResumePosition?>? Positions { get; init; }

    public override string Type => Name;

    public override string? Validate()
    {
        if (string.IsNullOrEmpty(ResumeToken) || ResumeToken.Length > 128)
        {
            return "resumeToken is required (at most 128 characters)";
        }
        if (Positions is null)
        {
            return null;
        }
        if (Positions.Count > MaxPositions)
        {
            return $"positions may name at most {MaxPositions} channels";
        }
        foreach (var (channelId, position) in Positions)
        {
            if (Fields.Id(channelId, "positions key") is { } error)
            {
                return error;
            }
            if (position is null || position.Epoch is null or < 0 || position.Offset is null or < 0)
            {
                return $"positions.{channelId} needs epoch and offset, each 0 or more";
            }
        }
        return null;
    }
}

/// <summary>Field rules shared by every command; chat applies its own rules again (it owns them), these keep junk off the wire.</summary>
public static class Fields
{
    public const int MaxIdLength = 128;
    public const int MaxNameLength = 64;
    public const int MaxClientMessageIdLength = 64;
    public const int MaxTextLength = 4000;
    public const int MaxReasonLength = 500;
    public const int MaxCidLength = 64;

    /// <summary>Ids travel in chat's routes, so they are 1–128 characters of <c>[A-Za-z0-9._:-]</c>.</summary>
    public static string? Id(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            return $"{field} is required";
        }
        if (value.Length > MaxIdLength)
        {
            return $"{field} is longer than {MaxIdLength} characters";
        }
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                return $"{field} may hold only letters, digits, '-', '_', '.' and ':'";
            }
        }
        return value is "." or ".." ? $"{field} is not a valid id" : null;
    }

    public static string? Name(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? $"{field} is required"
        : value.Length > MaxNameLength ? $"{field} is longer than {MaxNameLength} characters"
        : Id(value, field);

    public static string? ClientMessageId(string? value) =>
        string.IsNullOrEmpty(value) || value.Length > MaxClientMessageIdLength ? $"clientMessageId must be 1 to {MaxClientMessageIdLength} characters" : null;

    public static string? Text(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? $"{field} is required"
        : value.Length > MaxTextLength ? $"{field} is longer than {MaxTextLength} characters"
        : null;

    public static string? Offset(long? value) => value is null or < 1 ? "offset must be 1 or more" : null;

    public static string? OptionalReason(string? value) =>
        value is { Length: > MaxReasonLength } ? $"reason is longer than {MaxReasonLength} characters" : null;
}
