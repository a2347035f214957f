using System.Text.Json;
using DaprGame.Contracts.Chat;
using DaprGame.Gateway.Auth;

namespace DaprGame.Gateway.Realtime;

/// <summary>A request's outcome: the data of the <c>ok</c> reply, or the error to report.</summary>
public readonly record struct OpResult(object? Data, ChatError? Error)
{
    public bool Ok => Error is null;
}

/// <summary>
/// Runs a validated <see cref="Command"/> against chat for a player: the one place both the socket and the HTTP API
/// turn requests into chat calls, so they cannot drift apart. Socket-only effects (watching a joined channel) are the
/// caller's.
/// </summary>
public sealed class ChatOperations(IChatClient chat, TimeProvider time)
{
    public async Task<OpResult> ExecuteAsync(PlayerIdentity player, Command command, CancellationToken cancellationToken)
    {
        var p = player.PlayerId;
        return command switch
        {
            PingCommand => new OpResult(new Pong(time.GetUtcNow()), null),
            ChannelsListCommand => From(await chat.ListChannelsAsync(p, cancellationToken)),
            ChannelsMineCommand => From(await chat.MyChannelsAsync(p, cancellationToken)),
            ChannelCreateCommand c => From(await chat.CreateChannelAsync(p, new CreateChannel(c.Kind!.Value, c.ChannelName!), cancellationToken)),
            ChannelGetCommand c => From(await chat.GetChannelAsync(p, c.ChannelId!, cancellationToken)),
            ChannelJoinCommand c => From(await chat.JoinAsync(p, c.ChannelId!, cancellationToken)),
            ChannelLeaveCommand c => From(await chat.LeaveAsync(p, c.ChannelId!, cancellationToken)),
            ChannelHistoryCommand c => From(await chat.HistoryAsync(p, c.ChannelId!, c.After ?? 0, c.Limit ?? ChannelHistoryCommand.DefaultLimit, cancellationToken)),
            MessageSendCommand c => From(await chat.PostAsync(p, c.ChannelId!, new PostMessage(c.ClientMessageId!, c.Text!), cancellationToken)),
            MessageEditCommand c => From(await chat.EditAsync(p, c.ChannelId!, c.Offset!.Value, new EditMessage(c.Text!), cancellationToken)),
            MessageDeleteCommand c => From(await chat.DeleteAsync(p, c.ChannelId!, c.Offset!.Value, cancellationToken)),
            DirectSendCommand c => From(await chat.PostDirectAsync(p, c.PlayerId!, new PostMessage(c.ClientMessageId!, c.Text!), cancellationToken)),
            MemberInviteCommand c => From(await chat.InviteAsync(p, c.ChannelId!, new MemberAction(c.PlayerId!), cancellationToken)),
            MemberKickCommand c => From(await chat.KickAsync(p, c.ChannelId!, new MemberAction(c.PlayerId!), cancellationToken)),
            MemberRoleCommand c => From(await chat.SetRoleAsync(p, c.ChannelId!, new RoleChange(c.PlayerId!, c.Role!.Value), cancellationToken)),
            MuteCommand c => From(await chat.MuteAsync(p, c.ChannelId!, new Sanction(c.PlayerId!, c.Until, c.Reason), cancellationToken)),
            UnmuteCommand c => From(await chat.UnmuteAsync(p, c.ChannelId!, c.PlayerId!, cancellationToken)),
            BanCommand c => From(await chat.BanAsync(p, c.ChannelId!, new Sanction(c.PlayerId!, c.Until, c.Reason), cancellationToken)),
            UnbanCommand c => From(await chat.UnbanAsync(p, c.ChannelId!, c.PlayerId!, cancellationToken)),
            PurgeCommand c => From(await chat.PurgeAsync(p, c.ChannelId!, new MemberAction(c.PlayerId!), cancellationToken)),
            ReportCreateCommand c => From(await chat.ReportAsync(p, c.ChannelId!, new Report(c.Offset!.Value, c.Reason!), cancellationToken)),
            ReportsListCommand c => From(await chat.ListReportsAsync(p, c.ChannelId!, cancellationToken)),
            _ => new OpResult(null, new ChatError(GatewayErrorCodes.UnknownType, $"{command.Type} is not available here.", 400)),
        };
    }

    private static OpResult From<T>(ChatResult<T> result) =>
        result.Error is { } error ? new OpResult(null, error)
        : result.Value is JsonElement { ValueKind: JsonValueKind.Undefined } ? new OpResult(null, null)
        : new OpResult(result.Value, null);
}

/// <summary>The answer to <c>ping</c>.</summary>
public sealed record Pong(DateTimeOffset ServerTime);
