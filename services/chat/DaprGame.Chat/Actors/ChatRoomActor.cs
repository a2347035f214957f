using Dapr.Actors.Runtime;
using DaprGame.Chat.Domain;
using DaprGame.Chat.Domain.Channels;
using DaprGame.Chat.Domain.Moderation;
using DaprGame.Chat.Infrastructure;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Actors;

/// <summary>
/// One channel: the single owner of its <see cref="ChatChannel"/>. Each turn runs one command, writes only what it
/// changed in one state transaction, then publishes the new events (outbox: <c>meta.publishedThrough</c> trails the
/// stream offset until the broker has them; anything left behind is published first on the next activation or turn,
/// and by a retry timer meanwhile).
/// </summary>
/// <remarks>
/// State layout: <c>meta</c> (small, every appending turn), <c>e-{offset}</c> (one per event in the window; the one that
/// falls out is deleted in the same transaction), <c>members-{0..63}</c> (members spread by a stable hash, so a join
/// rewrites ~1/64 of a large room), <c>sanctions</c>, <c>invitations</c>, <c>reports</c>, <c>moderation-outbox</c>
/// (audit records not yet published), each written only when it changes.
/// </remarks>
[Actor(TypeName = ChatActorClient.RoomType)]
public sealed class ChatRoomActor(
    ActorHost host,
    ChatOptions options,
    TimeProvider time,
    IChatPublisher publisher,
    ChatActorClient actors,
    ChatMetrics metrics,
    ILogger<ChatRoomActor> logger) : Actor(host), IChatRoom
{
    public const int MemberBuckets = 64;
    private const string MetaKey = "meta";
    private const string SanctionsKey = "sanctions";
    private const string InvitationsKey = "invitations";
    private const string ReportsKey = "reports";
    private const string ModerationOutboxKey = "moderation-outbox";
    private const string RetryTimer = "outbox-retry";

    private ChatChannel _channel = null!;
    private List<ChatModerationAction> _moderationOutbox = [];
    private bool _retrying;

    private string ChannelId => Id.GetId();

    /// <summary>Stable across processes and versions (unlike <see cref="string.GetHashCode()"/>): FNV-1a over the UTF-16 code units.</summary>
    public static int MemberBucket(string playerId)
    {
        var hash = 2166136261u;
        foreach (var c in playerId)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash % MemberBuckets);
    }

    protected override async Task OnActivateAsync()
    {
        _channel = await LoadAsync();
        if (!_channel.Exists && ChannelIds.KindOf(ChannelId) == ChannelKind.Room
            && options.DefaultRooms.Contains(ChannelId[ChannelIds.RoomPrefix.Length..]))
        {
            // Configured rooms exist without being created: the first activation creates them.
            _channel.Create(ChannelKind.Room, ChannelId[ChannelIds.RoomPrefix.Length..], creatorId: null).GetValueOrThrow();
            await CommitAsync(_channel.TakeChanges(), created: true);
            ChatLog.ChannelCreated(logger, ChannelId, nameof(ChannelKind.Room));
        }
        await FlushOutboxAsync();
    }

    public Task<ActorReply<ChannelInfo>> CreateAsync(CreateCall call) =>
        RunAsync("create", c => c.Create(call.Kind, call.Name, call.PlayerId));

    public Task<ActorReply<ChannelView>> ViewAsync(PlayerCall call) => RunAsync("view", c => c.View(call.PlayerId));

    public Task<ActorReply<JoinResult>> JoinAsync(PlayerCall call) => RunAsync("join", c => c.Join(call.PlayerId));

    public Task<ActorReply<ChannelInfo>> LeaveAsync(PlayerCall call) => RunAsync("leave", c => c.Leave(call.PlayerId));

    public Task<ActorReply<MessageAck>> PostAsync(PostCall call) =>
        RunAsync("post", c => c.Post(call.PlayerId, call.ClientMessageId, call.Text));

    public Task<ActorReply<MessageAck>> PostDirectAsync(DirectPostCall call) =>
        RunAsync("post", c => c.PostDirect(call.PlayerId, call.OtherId, call.ClientMessageId, call.Text));

    public Task<ActorReply<MessageAck>> EditAsync(EditCall call) => RunAsync("edit", c => c.Edit(call.PlayerId, call.Offset, call.Text));

    public Task<ActorReply<MessageAck>> DeleteAsync(OffsetCall call) => RunAsync("delete", c => c.Delete(call.PlayerId, call.Offset));

    public Task<ActorReply<HistoryPage>> HistoryAsync(HistoryCall call) => RunAsync("history", c => c.History(call.PlayerId, call.After, call.Limit));

    public Task<ActorReply<ChannelInfo>> InviteAsync(TargetCall call) => RunAsync("invite", c => c.Invite(call.PlayerId, call.TargetId));

    public Task<ActorReply<ChannelInfo>> KickAsync(TargetCall call) => RunAsync("kick", c => c.Kick(call.PlayerId, call.TargetId));

    public Task<ActorReply<ChannelInfo>> RoleAsync(RoleCall call) => RunAsync("role", c => c.SetRole(call.PlayerId, call.TargetId, call.Role));

    public Task<ActorReply<ChannelInfo>> SanctionAsync(SanctionCall call) =>
        RunAsync(call.Lift ? (call.Ban ? "unban" : "unmute") : (call.Ban ? "ban" : "mute"), c => (call.Ban, call.Lift) switch
        {
            (true, false) => c.Ban(call.PlayerId, call.TargetId, call.Until, call.Reason),
            (false, false) => c.Mute(call.PlayerId, call.TargetId, call.Until, call.Reason),
            (true, true) => c.Unban(call.PlayerId, call.TargetId),
            (false, true) => c.Unmute(call.PlayerId, call.TargetId),
        });

    public Task<ActorReply<int>> PurgeAsync(TargetCall call) => RunAsync("purge", c => c.Purge(call.PlayerId, call.TargetId));

    public Task<ActorReply<ReportEntry>> ReportAsync(ReportCall call) => RunAsync("report", c => c.Report(call.PlayerId, call.Offset, call.Reason));

    public Task<ActorReply<IReadOnlyList<ReportEntry>>> ReportsAsync(PlayerCall call) => RunAsync("reports", c => c.ListReports(call.PlayerId));

    public Task<ActorReply<bool>> PresenceAsync(PresenceCall call) => RunAsync("presence", c => c.SetPresence(call.PlayerId, call.Online));

    /// <summary>Timer callback while the broker refuses publishes.</summary>
    public Task RetryOutboxAsync() => FlushOutboxAsync();

    private async Task<ActorReply<T>> RunAsync<T>(string operation, Func<ChatChannel, ChatOutcome<T>> command)
    {
        await FlushOutboxAsync();
        var existed = _channel.Exists;
        _channel.Housekeep();
        var outcome = command(_channel);
        var changes = _channel.TakeChanges();
        if (!changes.IsEmpty)
        {
            await CommitAsync(changes, created: !existed && _channel.Exists);
        }
        if (outcome.Error is { } error)
        {
            var code = Endpoints.ChatErrors.Code(error.Kind);
            metrics.Rejected(operation, code);
            ChatLog.Refused(logger, ChannelId, operation, code);
            return new ActorReply<T>(default, error);
        }
        if (!existed && _channel.Exists)
        {
            ChatLog.ChannelCreated(logger, ChannelId, _channel.Kind.ToString());
        }
        foreach (var e in changes.Appended)
        {
            if (e is ChatMessagePosted)
            {
                metrics.Posted(_channel.Kind.ToString());
            }
        }
        foreach (var m in changes.Moderation)
        {
            metrics.Moderation(m.Action);
        }
        await FlushOutboxAsync();
        return new ActorReply<T>(outcome.Value, null);
    }

    /// <summary>Writes one command's changes in one state transaction, then keeps the per-player index and the room directory in step.</summary>
    private async Task CommitAsync(ChannelChanges changes, bool created)
    {
        await StageAsync(changes);
        await StateManager.SaveStateAsync();

        foreach (var (player, role) in changes.Members)
        {
            try
            {
                await actors.MemberAsync(player, role is null ? nameof(IChatMember.RemoveAsync) : nameof(IChatMember.AddAsync), ChannelId);
            }
            catch (Exception e)
            {
                ChatLog.MemberIndexFailed(logger, e, ChannelId, player);
            }
        }
        if (_channel.Exists && _channel.Kind == ChannelKind.Room && (created || changes.Members.Count > 0))
        {
            try
            {
                await actors.DirectoryUpsertAsync(_channel.Info());
            }
            catch (Exception e)
            {
                ChatLog.DirectoryFailed(logger, e, ChannelId);
            }
        }
    }

    private async Task StageAsync(ChannelChanges changes)
    {
        if (changes.Meta && _channel.Exists)
        {
            await StateManager.SetStateAsync(MetaKey, _channel.Meta);
        }
        var window = _channel.Window;
        foreach (var offset in changes.Appended.Select(e => e.Offset).Concat(changes.Rewritten).Distinct())
        {
            if (!changes.Evicted.Contains(offset) && window.Count > 0 && offset >= window[0].Offset)
            {
                await StateManager.SetStateAsync<ChannelEvent>(EventKey(offset), window[(int)(offset - window[0].Offset)]);
            }
        }
        foreach (var offset in changes.Evicted)
        {
            await StateManager.TryRemoveStateAsync(EventKey(offset));
        }
        foreach (var bucket in changes.Members.Keys.Select(MemberBucket).Distinct())
        {
            var members = _channel.Members.Where(m => MemberBucket(m.Key) == bucket).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
            await StateManager.SetStateAsync(MembersKey(bucket), members);
        }
        if (changes.Sanctions)
        {
            await StateManager.SetStateAsync(SanctionsKey, _channel.Sanctions);
        }
        if (changes.Invitations)
        {
            await StateManager.SetStateAsync(InvitationsKey, _channel.Invitations.ToDictionary(StringComparer.Ordinal));
        }
        if (changes.Reports)
        {
            await StateManager.SetStateAsync(ReportsKey, _channel.Reports.ToList());
        }
        if (changes.Moderation.Count > 0)
        {
            _moderationOutbox.AddRange(changes.Moderation);
            await StateManager.SetStateAsync(ModerationOutboxKey, _moderationOutbox);
        }
    }

    /// <summary>
    /// Publishes, in order, every stored event the broker has not yet accepted, then pending moderation records, and
    /// saves how far it got. A failure stops at that event (order matters to consumers) and arms a retry timer.
    /// </summary>
    private async Task FlushOutboxAsync()
    {
        if (!_channel.Exists)
        {
            return;
        }
        var failed = false;
        var published = 0;
        if (_channel.Meta.PublishedThrough < _channel.Offset)
        {
            foreach (var e in _channel.Unpublished())
            {
                try
                {
                    await publisher.PublishAsync(e, CancellationToken.None);
                }
                catch (Exception error)
                {
                    ChatLog.PublishFailed(logger, error, ChannelId, e.Offset);
                    failed = true;
                    break;
                }
                _channel.MarkPublished(e.Offset);
                published++;
            }
        }
        var moderationPublished = 0;
        while (!failed && moderationPublished < _moderationOutbox.Count)
        {
            var record = _moderationOutbox[moderationPublished];
            try
            {
                await publisher.PublishAsync(record, CancellationToken.None);
                moderationPublished++;
            }
            catch (Exception error)
            {
                ChatLog.ModerationPublishFailed(logger, error, ChannelId, record.Id);
                failed = true;
            }
        }
        if (published > 0)
        {
            metrics.Published(published);
        }
        // How far publishing got is saved with the next change of this channel, not by a write of its own: that would
        // double the durable writes per message, the room's throughput limit. After a crash the last few events are
        // published again, which consumers already absorb (they deduplicate by offset; delivery is at-least-once).
        // Moderation records leave the outbox durably at once: they have no offset to deduplicate on.
        if (moderationPublished > 0)
        {
            await StageAsync(_channel.TakeChanges());
            _moderationOutbox.RemoveRange(0, moderationPublished);
            await StateManager.SetStateAsync(ModerationOutboxKey, _moderationOutbox);
            await StateManager.SaveStateAsync();
        }
        if (failed && !_retrying)
        {
            _retrying = true;
            await RegisterTimerAsync(RetryTimer, nameof(RetryOutboxAsync), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        }
        else if (!failed && _retrying)
        {
            _retrying = false;
            ChatLog.Republished(logger, ChannelId, published);
            await UnregisterTimerAsync(RetryTimer);
        }
    }

    private async Task<ChatChannel> LoadAsync()
    {
        var settings = options.Channel;
        var meta = await StateManager.TryGetStateAsync<ChannelMeta>(MetaKey);
        if (!meta.HasValue)
        {
            return ChatChannel.New(ChannelId, settings, time);
        }
        var members = new Dictionary<string, ChannelRole>(StringComparer.Ordinal);
        for (var bucket = 0; bucket < MemberBuckets; bucket++)
        {
            if (await StateManager.TryGetStateAsync<Dictionary<string, ChannelRole>>(MembersKey(bucket)) is { HasValue: true } part)
            {
                foreach (var (player, role) in part.Value)
                {
                    members[player] = role;
                }
            }
        }
        var window = new List<ChannelEvent>();
        for (var offset = meta.Value.FirstOffset; offset <= meta.Value.Offset; offset++)
        {
            if (await StateManager.TryGetStateAsync<ChannelEvent>(EventKey(offset)) is { HasValue: true } e)
            {
                window.Add(e.Value);
            }
        }
        var sanctions = await StateManager.TryGetStateAsync<ChannelSanctions>(SanctionsKey);
        var invitations = await StateManager.TryGetStateAsync<Dictionary<string, string>>(InvitationsKey);
        var reports = await StateManager.TryGetStateAsync<List<ChannelReport>>(ReportsKey);
        var outbox = await StateManager.TryGetStateAsync<List<ChatModerationAction>>(ModerationOutboxKey);
        _moderationOutbox = outbox.HasValue ? outbox.Value : [];
        return ChatChannel.Restore(
            new ChannelSnapshot(
                meta.Value,
                members,
                window,
                sanctions.HasValue ? sanctions.Value : new ChannelSanctions(),
                invitations.HasValue ? invitations.Value : new Dictionary<string, string>(StringComparer.Ordinal),
                reports.HasValue ? reports.Value : []),
            settings,
            time);
    }

    private static string EventKey(long offset) => $"e-{offset}";

    private static string MembersKey(int bucket) => $"members-{bucket}";
}
