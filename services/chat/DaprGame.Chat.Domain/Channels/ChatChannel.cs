using DaprGame.Chat.Domain.Moderation;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Domain.Channels;

/// <summary>
/// One channel's rules: membership and roles, the event stream (offsets that only grow within one epoch), the history
/// window, deduplication of sends, rate limits, the content filter and moderation. Single-threaded by design: its
/// owner (the ChatRoom actor) runs one command at a time. A refused command returns a <see cref="ChatError"/> and
/// changes nothing; an accepted one records what it changed in <see cref="TakeChanges"/> for the owner to persist.
/// Presence and rate buckets live only in memory: both are short-lived by nature.
/// </summary>
public sealed class ChatChannel
{
    private const string SystemActor = "system";

    private readonly ChannelSettings _settings;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, ChannelRole> _members = new(StringComparer.Ordinal);
    private readonly List<ChannelEvent> _window = [];
    private readonly Dictionary<(string Sender, string ClientMessageId), long> _sent = [];
    private readonly Dictionary<string, string> _invitations = new(StringComparer.Ordinal);
    private readonly List<ChannelReport> _reports = [];
    private readonly Dictionary<string, DateTimeOffset> _presence = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private ChannelSanctions _sanctions = new();
    private ChannelChanges _changes = new();
    private ChannelMeta? _meta;

    private ChatChannel(string channelId, ChannelSettings settings, TimeProvider time)
    {
        Id = channelId;
        _settings = settings;
        _time = time;
    }

    /// <summary>A channel that does not exist yet (<see cref="Create"/> makes it).</summary>
    public static ChatChannel New(string channelId, ChannelSettings settings, TimeProvider time) => new(channelId, settings, time);

    /// <summary>A channel as it was stored.</summary>
    public static ChatChannel Restore(ChannelSnapshot snapshot, ChannelSettings settings, TimeProvider time)
    {
        var channel = new ChatChannel(snapshot.Meta.ChannelId, settings, time) { _meta = snapshot.Meta, _sanctions = snapshot.Sanctions };
        foreach (var (player, role) in snapshot.Members)
        {
            channel._members[player] = role;
        }
        foreach (var e in snapshot.Window.OrderBy(e => e.Offset))
        {
            channel._window.Add(e);
            if (e is ChatMessagePosted p)
            {
                channel._sent[(p.SenderId, p.ClientMessageId)] = p.Offset;
            }
        }
        foreach (var (player, by) in snapshot.Invitations)
        {
            channel._invitations[player] = by;
        }
        channel._reports.AddRange(snapshot.Reports);
        return channel;
    }

    public string Id { get; }

    public bool Exists => _meta is not null;

    public ChannelMeta Meta => _meta ?? throw new InvalidOperationException($"channel {Id} does not exist");

    public ChannelKind Kind => Meta.Kind;

    public long Epoch => Meta.Epoch;

    public long Offset => Meta.Offset;

    public long FirstAvailableOffset => _window.Count > 0 ? _window[0].Offset : Meta.Offset + 1;

    public IReadOnlyDictionary<string, ChannelRole> Members => _members;

    public ChannelSanctions Sanctions => _sanctions;

    public IReadOnlyDictionary<string, string> Invitations => _invitations;

    public IReadOnlyList<ChannelReport> Reports => _reports;

    /// <summary>The history window, oldest first.</summary>
    public IReadOnlyList<ChannelEvent> Window => _window;

    /// <summary>What the commands since the last call changed; starts a new change set.</summary>
    public ChannelChanges TakeChanges()
    {
        var changes = _changes;
        _changes = new ChannelChanges();
        return changes;
    }

    public ChannelRole? RoleOf(string playerId) => _members.TryGetValue(playerId, out var role) ? role : null;

    public ChannelInfo Info() => new(Id, Meta.Kind, Meta.Name, _members.Count, Meta.Epoch, Meta.Offset);

    // ---- lifecycle ----

    /// <summary>
    /// Creates the channel: a room (<paramref name="creatorId"/> becomes owner; none for configured default rooms), a
    /// group (creator is owner) or a direct channel between <paramref name="parties"/> (both members, no roles above member).
    /// </summary>
    public ChatOutcome<ChannelInfo> Create(ChannelKind kind, string name, string? creatorId, IReadOnlyList<string>? parties = null)
    {
        if (Exists)
        {
            return ChatError.Conflict($"channel {Id} already exists");
        }
        if (ChannelIds.KindOf(Id) != kind)
        {
            return ChatError.Invalid($"{Id} is not a {kind} channel id");
        }
        if (creatorId is not null && !ChannelIds.IsValidPlayerId(creatorId))
        {
            return ChatError.Invalid("invalid player id");
        }
        string[]? ordered = null;
        switch (kind)
        {
            case ChannelKind.Room when !ChannelIds.IsValidRoomName(name) || Id != ChannelIds.Room(name):
                return ChatError.Invalid("a room name is 1-32 of [a-z0-9-]");
            case ChannelKind.Group:
                name = name.Trim();
                if (name.Length is < 1 or > 64)
                {
                    return ChatError.Invalid("a group name is 1-64 characters");
                }
                if (creatorId is null)
                {
                    return ChatError.Invalid("a group needs a creator");
                }
                break;
            case ChannelKind.Direct:
                if (parties is not { Count: 2 } || parties[0] == parties[1] || !parties.All(ChannelIds.IsValidPlayerId))
                {
                    return ChatError.Invalid("a direct channel has exactly two distinct players");
                }
                if (Id != ChannelIds.Direct(parties[0], parties[1]))
                {
                    return ChatError.Invalid($"{Id} is not the direct channel of these players");
                }
                ordered = [.. parties.Order(StringComparer.Ordinal)];
                name = string.Join(',', ordered);
                break;
        }
        var now = _time.GetUtcNow();
        _meta = new ChannelMeta
        {
            ChannelId = Id,
            Kind = kind,
            Name = name,
            Epoch = now.ToUnixTimeMilliseconds(),
            Offset = 0,
            FirstOffset = 1,
            PublishedThrough = 0,
            ModerationSequence = 0,
            CreatedAt = now,
            CreatedBy = creatorId,
            Parties = ordered,
        };
        _changes.Meta = true;
        if (ordered is not null)
        {
            foreach (var p in ordered)
            {
                AddMember(p, ChannelRole.Member, invitedBy: null, now);
            }
        }
        else if (creatorId is not null)
        {
            AddMember(creatorId, ChannelRole.Owner, invitedBy: null, now);
        }
        return Info();
    }

    // ---- reading ----

    /// <summary>The channel as <paramref name="playerId"/> may see it: rooms to anyone, groups to members and invitees, direct channels to their two players; presence to members only.</summary>
    public ChatOutcome<ChannelView> View(string playerId)
    {
        if (!Exists)
        {
            return NotFound();
        }
        var role = RoleOf(playerId);
        if (role is null && Kind != ChannelKind.Room && !(Kind == ChannelKind.Group && _invitations.ContainsKey(playerId)))
        {
            return ChatError.NotMember();
        }
        return new ChannelView(Info(), role, role is null ? null : Presence());
    }

    /// <summary>Members and who is online now (unexpired presence of current members).</summary>
    public ChannelPresence Presence()
    {
        var now = _time.GetUtcNow();
        var members = _members.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new ChannelMember(m.Key, m.Value)).ToList();
        var online = _presence.Where(p => p.Value > now && _members.ContainsKey(p.Key)).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        return new ChannelPresence(members, online);
    }

    /// <summary>Events after <paramref name="after"/> (or the latest ones when null), oldest first; members only.</summary>
    public ChatOutcome<HistoryPage> History(string playerId, long? after, int? limit)
    {
        if (!Exists)
        {
            return NotFound();
        }
        if (!_members.ContainsKey(playerId))
        {
            return ChatError.NotMember();
        }
        if (after < 0)
        {
            return ChatError.Invalid("after must be 0 or more");
        }
        var size = limit ?? _settings.DefaultPageSize;
        if (size < 1 || size > _settings.MaxPageSize)
        {
            return ChatError.Invalid($"limit must be 1-{_settings.MaxPageSize}");
        }
        return Page(after, size);
    }

    private HistoryPage Page(long? after, int limit)
    {
        var first = FirstAvailableOffset;
        int start;
        var truncated = false;
        if (after is not { } a)
        {
            start = Math.Max(0, _window.Count - limit);
        }
        else
        {
            // The client asked for events it can no longer get from the window: say so, and start at the oldest held.
            truncated = a + 1 < first;
            start = (int)Math.Min(_window.Count, Math.Max(a + 1, first) - first);
        }
        var events = _window.Skip(start).Take(limit).ToList();
        return new HistoryPage(Id, Meta.Epoch, Meta.Offset, first, truncated, events);
    }

    // ---- membership ----

    public ChatOutcome<JoinResult> Join(string playerId)
    {
        if (!Exists)
        {
            return NotFound();
        }
        var now = _time.GetUtcNow();
        if (_sanctions.IsBanned(playerId, now))
        {
            return new ChatError(ChatErrorKind.Banned, "banned from this channel");
        }
        if (!_members.ContainsKey(playerId))
        {
            switch (Kind)
            {
                case ChannelKind.Direct:
                    return ChatError.Forbidden("nobody joins a direct channel");
                case ChannelKind.Group when !_invitations.TryGetValue(playerId, out _):
                    return ChatError.Forbidden("a group is joined by invitation");
            }
            string? invitedBy = null;
            if (Kind == ChannelKind.Group)
            {
                invitedBy = _invitations[playerId];
                _invitations.Remove(playerId);
                _changes.Invitations = true;
            }
            AddMember(playerId, ChannelRole.Member, invitedBy, now);
        }
        return new JoinResult(Info(), _members[playerId], Page(null, _settings.DefaultPageSize));
    }

    public ChatOutcome<ChannelInfo> Leave(string playerId)
    {
        if (!Exists)
        {
            return NotFound();
        }
        if (RoleOf(playerId) is not { } role)
        {
            return ChatError.NotMember();
        }
        if (Kind == ChannelKind.Direct)
        {
            return ChatError.Forbidden("a direct channel cannot be left");
        }
        if (role == ChannelRole.Owner && _members.Count > 1)
        {
            return ChatError.Conflict("the owner hands ownership to another member before leaving");
        }
        RemoveMember(playerId, "left", by: null, _time.GetUtcNow());
        return Info();
    }

    public ChatOutcome<ChannelInfo> Invite(string actorId, string targetId)
    {
        if (Guard(actorId, ChannelRole.Moderator) is { } refused)
        {
            return refused;
        }
        if (Kind == ChannelKind.Room)
        {
            return ChatError.Invalid("rooms are public: anyone joins without an invitation");
        }
        if (!ChannelIds.IsValidPlayerId(targetId))
        {
            return ChatError.Invalid("invalid player id");
        }
        if (_members.ContainsKey(targetId))
        {
            return ChatError.Conflict("already a member");
        }
        if (_sanctions.IsBanned(targetId, _time.GetUtcNow()))
        {
            return ChatError.Conflict("the player is banned from this channel");
        }
        if (!_invitations.TryGetValue(targetId, out var by) || by != actorId)
        {
            _invitations[targetId] = actorId;
            _changes.Invitations = true;
        }
        return Info();
    }

    public ChatOutcome<ChannelInfo> Kick(string actorId, string targetId)
    {
        if (Guard(actorId, ChannelRole.Moderator) is { } refused)
        {
            return refused;
        }
        if (!_members.ContainsKey(targetId))
        {
            return ChatError.NotFound("the player is not a member");
        }
        if (OutranksRefusal(actorId, targetId) is { } outranked)
        {
            return outranked;
        }
        var now = _time.GetUtcNow();
        RemoveMember(targetId, "kicked", actorId, now);
        Audit("kicked", actorId, targetId, null, null, null, null, now);
        return Info();
    }

    /// <summary>The owner promotes or demotes a member; giving <see cref="ChannelRole.Owner"/> hands ownership over (the old owner becomes a moderator).</summary>
    public ChatOutcome<ChannelInfo> SetRole(string actorId, string targetId, ChannelRole role)
    {
        if (Guard(actorId, ChannelRole.Owner) is { } refused)
        {
            return refused;
        }
        if (!Enum.IsDefined(role))
        {
            return ChatError.Invalid("unknown role");
        }
        if (targetId == actorId)
        {
            return ChatError.Invalid("the owner changes others' roles, not their own");
        }
        if (!_members.TryGetValue(targetId, out var current))
        {
            return ChatError.NotFound("the player is not a member");
        }
        if (current == role)
        {
            return Info();
        }
        var now = _time.GetUtcNow();
        SetMemberRole(targetId, role);
        if (role == ChannelRole.Owner)
        {
            SetMemberRole(actorId, ChannelRole.Moderator);
        }
        Audit("role_changed", actorId, targetId, null, null, null, role.ToString().ToLowerInvariant(), now);
        return Info();
    }

    // ---- messages ----

    public ChatOutcome<MessageAck> Post(string senderId, string clientMessageId, string text)
    {
        if (!Exists)
        {
            return NotFound();
        }
        if (!_members.ContainsKey(senderId))
        {
            return ChatError.NotMember();
        }
        if (!IsValidClientMessageId(clientMessageId))
        {
            return ChatError.Invalid("clientMessageId is 1-64 printable characters");
        }
        if (_sent.TryGetValue((senderId, clientMessageId), out var original))
        {
            // A resend (lost ack, reconnect): the original answer, nothing new stored or published.
            return new MessageAck(Id, Meta.Epoch, original, Duplicate: true, Masked: false);
        }
        var now = _time.GetUtcNow();
        var content = CheckContent(senderId, text, now);
        if (!content.IsSuccess)
        {
            return content.Error!;
        }
        var (stored, masked) = content.Value;
        var offset = NextOffset();
        Append(new ChatMessagePosted
        {
            Id = EventId(offset), OccurredAt = now, StreamId = StreamId, Sequence = offset,
            ChannelId = Id, Kind = Kind, Epoch = Meta.Epoch, Offset = offset,
            SenderId = senderId, ClientMessageId = clientMessageId, Text = stored,
        });
        _sent[(senderId, clientMessageId)] = offset;
        if (masked)
        {
            Audit("filtered", SystemActor, senderId, offset, null, "blocklist", null, now);
        }
        return new MessageAck(Id, Meta.Epoch, offset, Duplicate: false, Masked: masked);
    }

    /// <summary>
    /// A message to the direct channel of <paramref name="senderId"/> and <paramref name="otherId"/>, creating it on
    /// first use. The message is checked before the channel is created, so a refused first message creates nothing.
    /// </summary>
    public ChatOutcome<MessageAck> PostDirect(string senderId, string otherId, string clientMessageId, string text)
    {
        if (!ChannelIds.IsValidPlayerId(senderId) || !ChannelIds.IsValidPlayerId(otherId) || senderId == otherId)
        {
            return ChatError.Invalid("a direct message needs two distinct valid players");
        }
        if (!Exists)
        {
            if (!IsValidClientMessageId(clientMessageId))
            {
                return ChatError.Invalid("clientMessageId is 1-64 printable characters");
            }
            if (ValidateText(text) is { } invalid)
            {
                return invalid;
            }
            if (_settings.Filter.Mode == FilterMode.Reject && _settings.Filter.Apply(text.Trim()).Matched)
            {
                return new ChatError(ChatErrorKind.ContentRejected, "the message contains blocked words");
            }
            var created = Create(ChannelKind.Direct, "", null, [senderId, otherId]);
            if (!created.IsSuccess)
            {
                return created.Error!;
            }
        }
        else if (Meta.Parties is not { } parties || !parties.Contains(senderId) || !parties.Contains(otherId))
        {
            // Only reachable through an id collision; never let it add a third player to someone's conversation.
            return ChatError.Conflict("this direct channel belongs to other players");
        }
        return Post(senderId, clientMessageId, text);
    }

    public ChatOutcome<MessageAck> Edit(string editorId, long targetOffset, string text)
    {
        if (!Exists)
        {
            return NotFound();
        }
        if (!_members.ContainsKey(editorId))
        {
            return ChatError.NotMember();
        }
        if (FindMessage(targetOffset) is not { } target)
        {
            return ChatError.NotFound($"no message at offset {targetOffset} in the history window");
        }
        if (target.SenderId != editorId)
        {
            return ChatError.Forbidden("only the sender edits a message");
        }
        var now = _time.GetUtcNow();
        var content = CheckContent(editorId, text, now);
        if (!content.IsSuccess)
        {
            return content.Error!;
        }
        var (stored, masked) = content.Value;
        Rewrite(target with { Text = stored });
        var offset = NextOffset();
        Append(new ChatMessageEdited
        {
            Id = EventId(offset), OccurredAt = now, StreamId = StreamId, Sequence = offset,
            ChannelId = Id, Kind = Kind, Epoch = Meta.Epoch, Offset = offset,
            TargetOffset = targetOffset, EditorId = editorId, Text = stored,
        });
        if (masked)
        {
            Audit("filtered", SystemActor, editorId, offset, null, "blocklist", null, now);
        }
        return new MessageAck(Id, Meta.Epoch, offset, Duplicate: false, Masked: masked);
    }

    /// <summary>The sender deletes their own message; a moderator deletes anyone's below their role.</summary>
    public ChatOutcome<MessageAck> Delete(string actorId, long targetOffset)
    {
        if (!Exists)
        {
            return NotFound();
        }
        if (RoleOf(actorId) is not { } role)
        {
            return ChatError.NotMember();
        }
        if (FindMessage(targetOffset, includeDeleted: true) is not { } target)
        {
            return ChatError.NotFound($"no message at offset {targetOffset} in the history window");
        }
        if (IsDeleted(target))
        {
            return ChatError.Conflict("the message is already deleted");
        }
        var own = target.SenderId == actorId;
        if (!own)
        {
            if (Kind == ChannelKind.Direct || role < ChannelRole.Moderator)
            {
                return ChatError.Forbidden("only the sender or a moderator deletes a message");
            }
            if (OutranksRefusal(actorId, target.SenderId) is { } outranked)
            {
                return outranked;
            }
        }
        var now = _time.GetUtcNow();
        var offset = DeleteMessage(target, actorId, own ? "own" : "moderator", now);
        if (!own)
        {
            Audit("deleted", actorId, target.SenderId, targetOffset, null, null, null, now);
        }
        return new MessageAck(Id, Meta.Epoch, offset, Duplicate: false, Masked: false);
    }

    // ---- moderation ----

    public ChatOutcome<ChannelInfo> Mute(string actorId, string targetId, DateTimeOffset? until, string? reason) =>
        Sanction(actorId, targetId, until, reason, ban: false);

    /// <summary>Bans <paramref name="targetId"/>: removes them (left, reason <c>banned</c>), drops their invitation and refuses their joins while active.</summary>
    public ChatOutcome<ChannelInfo> Ban(string actorId, string targetId, DateTimeOffset? until, string? reason) =>
        Sanction(actorId, targetId, until, reason, ban: true);

    public ChatOutcome<ChannelInfo> Unmute(string actorId, string targetId) => Lift(actorId, targetId, ban: false);

    public ChatOutcome<ChannelInfo> Unban(string actorId, string targetId) => Lift(actorId, targetId, ban: true);

    /// <summary>Deletes every message of <paramref name="targetId"/> still in the window (one deleted event each, reason <c>purge</c>); returns how many.</summary>
    public ChatOutcome<int> Purge(string actorId, string targetId)
    {
        if (Guard(actorId, ChannelRole.Moderator) is { } refused)
        {
            return refused;
        }
        if (!ChannelIds.IsValidPlayerId(targetId))
        {
            return ChatError.Invalid("invalid player id");
        }
        if (OutranksRefusal(actorId, targetId) is { } outranked)
        {
            return outranked;
        }
        var now = _time.GetUtcNow();
        var targets = _window.OfType<ChatMessagePosted>().Where(p => p.SenderId == targetId && !IsDeleted(p)).ToList();
        foreach (var target in targets)
        {
            DeleteMessage(target, actorId, "purge", now);
        }
        if (targets.Count > 0)
        {
            Audit("purged", actorId, targetId, null, null, null, targets.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), now);
        }
        return targets.Count;
    }

    public ChatOutcome<ReportEntry> Report(string reporterId, long targetOffset, string reason)
    {
        if (!Exists)
        {
            return NotFound();
        }
        if (!_members.ContainsKey(reporterId))
        {
            return ChatError.NotMember();
        }
        reason = reason?.Trim() ?? "";
        if (reason.Length is < 1 or > 500)
        {
            return ChatError.Invalid("a report reason is 1-500 characters");
        }
        if (FindMessage(targetOffset, includeDeleted: true) is not { } target)
        {
            return ChatError.NotFound($"no message at offset {targetOffset} in the history window");
        }
        var now = _time.GetUtcNow();
        var sequence = Audit("reported", reporterId, target.SenderId, targetOffset, null, reason, null, now);
        var report = new ChannelReport($"r-{Meta.Epoch}-{sequence}", reporterId, targetOffset, reason, now, target.SenderId, target.Text);
        _reports.Add(report);
        if (_reports.Count > _settings.MaxReports)
        {
            // Bounded queue: the oldest unreviewed report goes first; the audit record of it stays on the moderation topic.
            _reports.RemoveRange(0, _reports.Count - _settings.MaxReports);
        }
        _changes.Reports = true;
        return ToEntry(report);
    }

    public ChatOutcome<IReadOnlyList<ReportEntry>> ListReports(string actorId)
    {
        if (Guard(actorId, ChannelRole.Moderator) is { } refused)
        {
            return refused;
        }
        return _reports.Select(ToEntry).ToList();
    }

    // ---- presence ----

    /// <summary>
    /// The gateway says <paramref name="playerId"/> is (or no longer is) watching the channel. Online entries expire
    /// after the lease unless refreshed, so a dead gateway's players drop off.
    /// </summary>
    public ChatOutcome<bool> SetPresence(string playerId, bool online)
    {
        if (!Exists)
        {
            return NotFound();
        }
        var now = _time.GetUtcNow();
        PrunePresence(now);
        if (!online)
        {
            return _presence.Remove(playerId);
        }
        if (!_members.ContainsKey(playerId))
        {
            return ChatError.NotMember();
        }
        _presence[playerId] = now + _settings.PresenceLease;
        return true;
    }

    // ---- outbox ----

    /// <summary>Events stored but not yet published, oldest first (those that fell out of the window before publishing are gone).</summary>
    public IReadOnlyList<ChannelEvent> Unpublished() =>
        Exists ? _window.Where(e => e.Offset > Meta.PublishedThrough).ToList() : [];

    /// <summary>Records that every event through <paramref name="offset"/> has been published.</summary>
    public void MarkPublished(long offset)
    {
        if (Exists && offset > Meta.PublishedThrough)
        {
            _meta = Meta with { PublishedThrough = Math.Min(offset, Meta.Offset) };
            _changes.Meta = true;
        }
    }

    /// <summary>Forgets expired sanctions and presence; true when stored state changed.</summary>
    public bool Housekeep()
    {
        var now = _time.GetUtcNow();
        PrunePresence(now);
        foreach (var key in _buckets.Where(b => b.Value.IsFull(now)).Select(b => b.Key).ToList())
        {
            _buckets.Remove(key);
        }
        if (_sanctions.Prune(now))
        {
            _changes.Sanctions = true;
            return true;
        }
        return false;
    }

    // ---- internals ----

    private static ChatError NotFound() => ChatError.NotFound("no such channel");

    private string StreamId => "chat/" + Id;

    private string EventId(long offset) => $"{Id}:{Meta.Epoch}:{offset}";

    private long NextOffset() => Meta.Offset + 1;

    private static bool IsDeleted(ChatMessagePosted p) => p.Text.Length == 0;

    private static bool IsValidClientMessageId(string? id) => id is { Length: >= 1 and <= 64 } && !id.Any(char.IsControl);

    private static ReportEntry ToEntry(ChannelReport r) => new(r.ReportId, r.ReporterId, r.Offset, r.Reason, r.At, r.SenderId, r.Text);

    private ChatError? ValidateText(string? text)
    {
        var trimmed = text?.Trim() ?? "";
        return trimmed.Length < 1 || trimmed.Length > _settings.MaxTextLength
            ? ChatError.Invalid($"text is 1-{_settings.MaxTextLength} characters after trimming")
            : null;
    }

    /// <summary>Text rules, mute, rate and filter, in that order; on success the text to store and whether it was masked.</summary>
    private ChatOutcome<(string Text, bool Masked)> CheckContent(string playerId, string text, DateTimeOffset now)
    {
        if (ValidateText(text) is { } invalid)
        {
            return invalid;
        }
        if (_sanctions.IsMuted(playerId, now))
        {
            return new ChatError(ChatErrorKind.Muted, "muted in this channel");
        }
        if (!Bucket(playerId, now).TryTake(now))
        {
            return new ChatError(ChatErrorKind.RateLimited, "sending too fast in this channel");
        }
        var filtered = _settings.Filter.Apply(text.Trim());
        if (filtered.Matched && _settings.Filter.Mode == FilterMode.Reject)
        {
            return new ChatError(ChatErrorKind.ContentRejected, "the message contains blocked words");
        }
        return (filtered.MaskedText, filtered.Matched);
    }

    private TokenBucket Bucket(string playerId, DateTimeOffset now)
    {
        if (!_buckets.TryGetValue(playerId, out var bucket))
        {
            bucket = new TokenBucket(_settings.RatePerSecond, _settings.RateBurst, now);
            _buckets[playerId] = bucket;
        }
        return bucket;
    }

    /// <summary>Refuses unless the channel exists, is not direct (no roles there) and <paramref name="actorId"/> holds at least <paramref name="role"/>.</summary>
    private ChatError? Guard(string actorId, ChannelRole role)
    {
        if (!Exists)
        {
            return NotFound();
        }
        if (RoleOf(actorId) is not { } actual)
        {
            return ChatError.NotMember();
        }
        if (Kind == ChannelKind.Direct)
        {
            return ChatError.Forbidden("direct channels have no moderation");
        }
        return actual < role ? ChatError.Forbidden($"needs the {role.ToString().ToLowerInvariant()} role") : null;
    }

    /// <summary>A moderator acts only on roles below their own (the owner is out of everyone's reach).</summary>
    private ChatError? OutranksRefusal(string actorId, string targetId)
    {
        if (actorId == targetId)
        {
            return ChatError.Invalid("moderators do not act on themselves");
        }
        var actor = RoleOf(actorId) ?? ChannelRole.Member;
        var target = RoleOf(targetId) ?? ChannelRole.Member;
        return target >= actor ? ChatError.Forbidden("cannot act on an equal or higher role") : null;
    }

    private ChatOutcome<ChannelInfo> Sanction(string actorId, string targetId, DateTimeOffset? until, string? reason, bool ban)
    {
        if (Guard(actorId, ChannelRole.Moderator) is { } refused)
        {
            return refused;
        }
        if (!ChannelIds.IsValidPlayerId(targetId))
        {
            return ChatError.Invalid("invalid player id");
        }
        if (reason is { Length: > 500 })
        {
            return ChatError.Invalid("a reason is at most 500 characters");
        }
        if (OutranksRefusal(actorId, targetId) is { } outranked)
        {
            return outranked;
        }
        var now = _time.GetUtcNow();
        if (until is { } u && u <= now)
        {
            return ChatError.Invalid("until is in the past");
        }
        var entry = new SanctionEntry(actorId, now, until, reason);
        if (ban)
        {
            _sanctions.Bans[targetId] = entry;
            if (_members.ContainsKey(targetId))
            {
                RemoveMember(targetId, "banned", actorId, now);
            }
            if (_invitations.Remove(targetId))
            {
                _changes.Invitations = true;
            }
        }
        else
        {
            _sanctions.Mutes[targetId] = entry;
        }
        _changes.Sanctions = true;
        Audit(ban ? "banned" : "muted", actorId, targetId, null, until, reason, null, now);
        return Info();
    }

    private ChatOutcome<ChannelInfo> Lift(string actorId, string targetId, bool ban)
    {
        if (Guard(actorId, ChannelRole.Moderator) is { } refused)
        {
            return refused;
        }
        var now = _time.GetUtcNow();
        var map = ban ? _sanctions.Bans : _sanctions.Mutes;
        if (!map.TryGetValue(targetId, out var entry) || !entry.IsActive(now))
        {
            return ChatError.NotFound(ban ? "the player is not banned" : "the player is not muted");
        }
        map.Remove(targetId);
        _changes.Sanctions = true;
        Audit(ban ? "unbanned" : "unmuted", actorId, targetId, null, null, null, null, now);
        return Info();
    }

    private ChatMessagePosted? FindMessage(long offset, bool includeDeleted = false)
    {
        if (_window.Count == 0 || offset < _window[0].Offset || offset > Meta.Offset)
        {
            return null;
        }
        return _window[(int)(offset - _window[0].Offset)] is ChatMessagePosted p && (includeDeleted || !IsDeleted(p)) ? p : null;
    }

    private long DeleteMessage(ChatMessagePosted target, string actorId, string reason, DateTimeOffset now)
    {
        // History serves the current text of a message; a deleted one keeps its place (and its dedup key) but no text.
        // Redact before appending: the append may push the target itself out of a small window.
        Rewrite(target with { Text = "" });
        var offset = NextOffset();
        Append(new ChatMessageDeleted
        {
            Id = EventId(offset), OccurredAt = now, StreamId = StreamId, Sequence = offset,
            ChannelId = Id, Kind = Kind, Epoch = Meta.Epoch, Offset = offset,
            TargetOffset = target.Offset, DeletedBy = actorId, Reason = reason,
        });
        return offset;
    }

    private void Rewrite(ChatMessagePosted updated)
    {
        if (_window.Count == 0 || updated.Offset < _window[0].Offset)
        {
            // Already out of the window (an earlier deletion of the same purge pushed it out): nothing left to redact.
            return;
        }
        var index = (int)(updated.Offset - _window[0].Offset);
        _window[index] = updated;
        _changes.Rewritten.Add(updated.Offset);
    }

    private void AddMember(string playerId, ChannelRole role, string? invitedBy, DateTimeOffset now)
    {
        _members[playerId] = role;
        _changes.Members[playerId] = role;
        var offset = NextOffset();
        Append(new ChatMemberJoined
        {
            Id = EventId(offset), OccurredAt = now, StreamId = StreamId, Sequence = offset,
            ChannelId = Id, Kind = Kind, Epoch = Meta.Epoch, Offset = offset,
            PlayerId = playerId, Role = role, InvitedBy = invitedBy,
        });
    }

    private void RemoveMember(string playerId, string reason, string? by, DateTimeOffset now)
    {
        _members.Remove(playerId);
        _presence.Remove(playerId);
        _changes.Members[playerId] = null;
        var offset = NextOffset();
        Append(new ChatMemberLeft
        {
            Id = EventId(offset), OccurredAt = now, StreamId = StreamId, Sequence = offset,
            ChannelId = Id, Kind = Kind, Epoch = Meta.Epoch, Offset = offset,
            PlayerId = playerId, Reason = reason, By = by,
        });
    }

    private void SetMemberRole(string playerId, ChannelRole role)
    {
        _members[playerId] = role;
        _changes.Members[playerId] = role;
    }

    private void Append(ChannelEvent e)
    {
        _window.Add(e);
        _changes.Appended.Add(e);
        var evicted = 0;
        while (_window.Count - evicted > _settings.HistoryWindow)
        {
            var old = _window[evicted++];
            _changes.Evicted.Add(old.Offset);
            if (old is ChatMessagePosted p)
            {
                _sent.Remove((p.SenderId, p.ClientMessageId));
            }
        }
        if (evicted > 0)
        {
            _window.RemoveRange(0, evicted);
        }
        _meta = Meta with { Offset = e.Offset, FirstOffset = _window[0].Offset };
        _changes.Meta = true;
    }

    private long Audit(string action, string actorId, string? targetId, long? targetOffset, DateTimeOffset? until, string? reason, string? detail, DateTimeOffset now)
    {
        var sequence = Meta.ModerationSequence + 1;
        _meta = Meta with { ModerationSequence = sequence };
        _changes.Meta = true;
        _changes.Moderation.Add(new ChatModerationAction
        {
            Id = $"{Id}:{Meta.Epoch}:mod-{sequence}",
            OccurredAt = now,
            StreamId = "chat-moderation/" + Id,
            Sequence = sequence,
            ChannelId = Id,
            Action = action,
            ActorId = actorId,
            TargetPlayerId = targetId,
            TargetOffset = targetOffset,
            Until = until,
            Reason = reason,
            Detail = detail,
        });
        return sequence;
    }

    private void PrunePresence(DateTimeOffset now)
    {
        foreach (var key in _presence.Where(p => p.Value <= now).Select(p => p.Key).ToList())
        {
            _presence.Remove(key);
        }
    }
}
