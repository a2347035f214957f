using Dapr.Actors;
using DaprGame.Chat.Domain;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Actors;

/// <summary>
/// An actor's answer: the value, or the domain error that refused the command. Errors travel as data, not as
/// exceptions, so the HTTP edge maps them once and the actor runtime never treats a refusal as a failed call.
/// </summary>
public sealed record ActorReply<T>(T? Value, ChatError? Error);

/// <summary>An empty request body for non-remoting actor calls that need only the acting player.</summary>
public sealed record PlayerCall(string PlayerId);

public sealed record CreateCall(string PlayerId, ChannelKind Kind, string Name);

public sealed record DirectPostCall(string PlayerId, string OtherId, string ClientMessageId, string Text);

public sealed record PostCall(string PlayerId, string ClientMessageId, string Text);

public sealed record EditCall(string PlayerId, long Offset, string Text);

public sealed record OffsetCall(string PlayerId, long Offset);

public sealed record HistoryCall(string PlayerId, long? After, int? Limit);

public sealed record TargetCall(string PlayerId, string TargetId);

public sealed record RoleCall(string PlayerId, string TargetId, ChannelRole Role);

/// <summary>Mute or ban (<see cref="Ban"/>), or lift one (<see cref="Lift"/>).</summary>
public sealed record SanctionCall(string PlayerId, string TargetId, bool Ban, bool Lift, DateTimeOffset? Until, string? Reason);

public sealed record ReportCall(string PlayerId, long Offset, string Reason);

public sealed record PresenceCall(string PlayerId, bool Online);

/// <summary>
/// One channel (actor type <c>ChatRoom</c>, id = channel id). Methods are called by name without remoting (JSON
/// bodies), one argument each.
/// </summary>
public interface IChatRoom : IActor
{
    Task<ActorReply<ChannelInfo>> CreateAsync(CreateCall call);

    Task<ActorReply<ChannelView>> ViewAsync(PlayerCall call);

    Task<ActorReply<JoinResult>> JoinAsync(PlayerCall call);

    Task<ActorReply<ChannelInfo>> LeaveAsync(PlayerCall call);

    Task<ActorReply<MessageAck>> PostAsync(PostCall call);

    Task<ActorReply<MessageAck>> PostDirectAsync(DirectPostCall call);

    Task<ActorReply<MessageAck>> EditAsync(EditCall call);

    Task<ActorReply<MessageAck>> DeleteAsync(OffsetCall call);

    Task<ActorReply<HistoryPage>> HistoryAsync(HistoryCall call);

    Task<ActorReply<ChannelInfo>> InviteAsync(TargetCall call);

    Task<ActorReply<ChannelInfo>> KickAsync(TargetCall call);

    Task<ActorReply<ChannelInfo>> RoleAsync(RoleCall call);

    Task<ActorReply<ChannelInfo>> SanctionAsync(SanctionCall call);

    Task<ActorReply<int>> PurgeAsync(TargetCall call);

    Task<ActorReply<ReportEntry>> ReportAsync(ReportCall call);

    Task<ActorReply<IReadOnlyList<ReportEntry>>> ReportsAsync(PlayerCall call);

    Task<ActorReply<bool>> PresenceAsync(PresenceCall call);
}

/// <summary>One player's channel index (actor type <c>ChatMember</c>, id = player id), kept by the channels themselves.</summary>
public interface IChatMember : IActor
{
    Task AddAsync(string channelId);

    Task RemoveAsync(string channelId);

    Task<IReadOnlyList<string>> ListAsync();
}

/// <summary>The public room list with member counts (actor type <c>ChatDirectory</c>, id <c>rooms</c>), kept by the rooms themselves.</summary>
public interface IChatDirectory : IActor
{
    Task UpsertAsync(ChannelInfo room);

    Task<IReadOnlyList<ChannelInfo>> ListAsync();
}
