using System.Collections.Concurrent;
using System.Text.Json;
using DaprGame.Contracts.Chat;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>
/// An in-memory chat service behind <see cref="IChatClient"/>: channels with members, an offset-numbered stream per
/// channel, history pages with truncation, presence reports. Mutations append events and hand them to
/// <see cref="Publisher"/> (the test publishes them through the sidecar), unless appended "silently" to simulate a lost
/// or late broker delivery.
/// </summary>
public sealed class FakeChat : IChatClient
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FakeChannel> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string ChannelId, string PlayerId, bool Online)> _presence = new();
    private readonly List<(string ChannelId, string PlayerId, bool Online, TaskCompletionSource Done)> _presenceWaits = [];

    /// <summary>Where appended events go (the test publishes them to the gateway through its sidecar).</summary>
    public Func<ChannelEvent, Task>? Publisher { get; set; }

    public IReadOnlyCollection<(string ChannelId, string PlayerId, bool Online)> PresenceReports => _presence;

    /// <summary>When set, every call fails as if chat were down.</summary>
    public bool Down { get; set; }

    public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;

    public void AddChannel(string channelId, ChannelKind kind = ChannelKind.Room, params string[] members)
    {
        lock (_lock)
        {
            var channel = new FakeChannel(channelId, kind);
            foreach (var m in members)
            {
                channel.Members[m] = ChannelRole.Member;
            }
            _channels[channelId] = channel;
        }
    }

    /// <summary>Appends a message to the stream without publishing it (history has it; the broker has not delivered it).</summary>
    public ChatMessagePosted AppendSilently(string channelId, string senderId, string text)
    {
        lock (_lock)
        {
            var c = _channels[channelId];
            var evt = Posted(c, senderId, "cm-" + (c.Offset + 1), text);
            c.Append(evt);
            return evt;
        }
    }

    /// <summary>Appends a message and publishes it.</summary>
    public async Task<ChatMessagePosted> PublishMessageAsync(string channelId, string senderId, string text)
    {
        var evt = AppendSilently(channelId, senderId, text);
        await PublishAsync(evt);
        return evt;
    }

    /// <summary>Removes a member and publishes the member-left event.</summary>
    public async Task<ChatMemberLeft> RemoveMemberAsync(string channelId, string playerId, string reason = "kicked")
    {
        ChatMemberLeft evt;
        lock (_lock)
        {
            var c = _channels[channelId];
            c.Members.Remove(playerId);
            evt = new ChatMemberLeft
            {
                Id = Guid.NewGuid().ToString("N"),
                OccurredAt = Now,
                StreamId = "chat/" + c.Id,
                Sequence = c.Offset + 1,
                ChannelId = c.Id,
                Kind = c.Kind,
                Epoch = c.Epoch,
                Offset = c.Offset + 1,
                PlayerId = playerId,
                Reason = reason,
            };
            c.Append(evt);
        }
        await PublishAsync(evt);
        return evt;
    }

    /// <summary>Forgets history up to <paramref name="firstAvailableOffset"/> (exclusive), as a retention window would.</summary>
    public void Trim(string channelId, long firstAvailableOffset)
    {
        lock (_lock)
        {
            var c = _channels[channelId];
            c.FirstAvailable = firstAvailableOffset;
            c.Events.RemoveAll(e => e.Offset < firstAvailableOffset);
        }
    }

    public ChannelEvent[] Events(string channelId)
    {
        lock (_lock)
        {
            return [.. _channels[channelId].Events];
        }
    }

    /// <summary>Completes when chat is told (player, channel, online).</summary>
    public Task WaitForPresenceAsync(string channelId, string playerId, bool online)
    {
        lock (_lock)
        {
            foreach (var (c, p, o) in _presence)
            {
                if (c == channelId && p == playerId && o == online)
                {
                    return Task.CompletedTask;
                }
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _presenceWaits.Add((channelId, playerId, online, done));
            return done.Task;
        }
    }

    public Task PublishAsync(ChannelEvent evt) => Publisher is { } p ? p(evt) : Task.CompletedTask;

    public Task<ChatResult<IReadOnlyList<ChannelInfo>>> ListChannelsAsync(string playerId, CancellationToken cancellationToken) =>
        Run<IReadOnlyList<ChannelInfo>>(() => [.. _channels.Values.Where(c => c.Kind == ChannelKind.Room).Select(c => c.Info())]);

    /// <summary>Runs after <see cref="MyChannelsAsync"/> took its snapshot and before the gateway sees it.</summary>
    public Action<string>? AfterMyChannels { get; set; }

    public async Task<ChatResult<IReadOnlyList<ChannelInfo>>> MyChannelsAsync(string playerId, CancellationToken cancellationToken)
    {
        var answer = await Run<IReadOnlyList<ChannelInfo>>(() => [.. _channels.Values.Where(c => c.Members.ContainsKey(playerId)).Select(c => c.Info())]);
        AfterMyChannels?.Invoke(playerId);
        return answer;
    }

    public Task<ChatResult<ChannelInfo>> CreateChannelAsync(string playerId, CreateChannel request, CancellationToken cancellationToken) =>
        Run(() =>
        {
            var id = request.Kind == ChannelKind.Room ? "room-" + request.Name : "group-" + request.Name;
            if (_channels.ContainsKey(id))
            {
                return Error<ChannelInfo>(ChatErrorCodes.Conflict, 409);
            }
            var c = new FakeChannel(id, request.Kind);
            c.Members[playerId] = ChannelRole.Owner;
            _channels[id] = c;
            return Ok(c.Info());
        });

    public Task<ChatResult<JsonElement>> GetChannelAsync(string playerId, string channelId, CancellationToken cancellationToken) =>
        Run(() => _channels.TryGetValue(channelId, out var c)
            ? Ok(JsonSerializer.SerializeToElement(new { channel = c.Info(), presence = new ChannelPresence([.. c.Members.Select(m => new ChannelMember(m.Key, m.Value))], []) }, Hosting.ServiceDefaults.JsonOptions))
            : Error<JsonElement>(ChatErrorCodes.NotFound, 404));

    public async Task<ChatResult<JoinResult>> JoinAsync(string playerId, string channelId, CancellationToken cancellationToken)
    {
        ChatMemberJoined? joined = null;
        var result = await Run(() =>
        {
            if (!_channels.TryGetValue(channelId, out var c))
            {
                return Error<JoinResult>(ChatErrorCodes.NotFound, 404);
            }
            if (!c.Members.TryGetValue(playerId, out _))
            {
                c.Members[playerId] = ChannelRole.Member;
                joined = Joined(c, playerId);
                c.Append(joined);
            }
            return Ok(new JoinResult(c.Info(), c.Members[playerId], c.Page(Math.Max(0, c.Offset - 50), 50)));
        });
        if (joined is not null)
        {
            await PublishAsync(joined);
        }
        return result;
    }

    public async Task<ChatResult<JsonElement>> LeaveAsync(string playerId, string channelId, CancellationToken cancellationToken)
    {
        if (Down)
        {
            return Unavailable<JsonElement>();
        }
        bool member;
        lock (_lock)
        {
            member = _channels.TryGetValue(channelId, out var c) && c.Members.ContainsKey(playerId);
        }
        if (!member)
        {
            return Error<JsonElement>(ChatErrorCodes.NotMember, 403);
        }
        await RemoveMemberAsync(channelId, playerId, "left");
        return new ChatResult<JsonElement>(default, null);
    }

    public Task<ChatResult<HistoryPage>> HistoryAsync(string playerId, string channelId, long after, int limit, CancellationToken cancellationToken) =>
        Run(() =>
        {
            if (!_channels.TryGetValue(channelId, out var c))
            {
                return Error<HistoryPage>(ChatErrorCodes.NotFound, 404);
            }
            return c.Members.ContainsKey(playerId) || c.Kind == ChannelKind.Room ? Ok(c.Page(after, limit)) : Error<HistoryPage>(ChatErrorCodes.NotMember, 403);
        });

    public async Task<ChatResult<MessageAck>> PostAsync(string playerId, string channelId, PostMessage request, CancellationToken cancellationToken)
    {
        ChatMessagePosted? posted = null;
        var result = await Run(() =>
        {
            if (!_channels.TryGetValue(channelId, out var c))
            {
                return Error<MessageAck>(ChatErrorCodes.NotFound, 404);
            }
            if (!c.Members.ContainsKey(playerId))
            {
                return Error<MessageAck>(ChatErrorCodes.NotMember, 403);
            }
            posted = Posted(c, playerId, request.ClientMessageId, request.Text);
            c.Append(posted);
            return Ok(new MessageAck(c.Id, c.Epoch, posted.Offset, false, false));
        });
        if (posted is not null)
        {
            await PublishAsync(posted);
        }
        return result;
    }

    public async Task<ChatResult<MessageAck>> PostDirectAsync(string playerId, string otherPlayerId, PostMessage request, CancellationToken cancellationToken)
    {
        var events = new List<ChannelEvent>();
        var result = await Run(() =>
        {
            var (a, b) = string.CompareOrdinal(playerId, otherPlayerId) < 0 ? (playerId, otherPlayerId) : (otherPlayerId, playerId);
            var id = $"dm-{a}-{b}";
            if (!_channels.TryGetValue(id, out var c))
            {
                c = new FakeChannel(id, ChannelKind.Direct);
                _channels[id] = c;
                foreach (var p in new[] { a, b })
                {
                    c.Members[p] = ChannelRole.Member;
                    var joined = Joined(c, p);
                    c.Append(joined);
                    events.Add(joined);
                }
            }
            var posted = Posted(c, playerId, request.ClientMessageId, request.Text);
            c.Append(posted);
            events.Add(posted);
            return Ok(new MessageAck(c.Id, c.Epoch, posted.Offset, false, false));
        });
        foreach (var e in events)
        {
            await PublishAsync(e);
        }
        return result;
    }

    public Task<ChatResult<JsonElement>> EditAsync(string playerId, string channelId, long offset, EditMessage request, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> DeleteAsync(string playerId, string channelId, long offset, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> InviteAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> KickAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> SetRoleAsync(string playerId, string channelId, RoleChange request, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> MuteAsync(string playerId, string channelId, Sanction request, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> UnmuteAsync(string playerId, string channelId, string targetPlayerId, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> BanAsync(string playerId, string channelId, Sanction request, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> UnbanAsync(string playerId, string channelId, string targetPlayerId, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> PurgeAsync(string playerId, string channelId, MemberAction request, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<JsonElement>> ReportAsync(string playerId, string channelId, Report request, CancellationToken cancellationToken) => Refuse();

    public Task<ChatResult<IReadOnlyList<ReportEntry>>> ListReportsAsync(string playerId, string channelId, CancellationToken cancellationToken) =>
        Task.FromResult(Error<IReadOnlyList<ReportEntry>>(ChatErrorCodes.Forbidden, 403));

    public Task<ChatResult<JsonElement>> SetPresenceAsync(string channelId, PresenceUpdate update, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _presence.Enqueue((channelId, update.PlayerId, update.Online));
            for (var i = _presenceWaits.Count - 1; i >= 0; i--)
            {
                var w = _presenceWaits[i];
                if (w.ChannelId == channelId && w.PlayerId == update.PlayerId && w.Online == update.Online)
                {
                    w.Done.TrySetResult();
                    _presenceWaits.RemoveAt(i);
                }
            }
        }
        return Task.FromResult(new ChatResult<JsonElement>(default, null));
    }

    // Moderation is chat's business; the fake refuses it the way chat refuses a non-moderator, so the pass-through of
    // chat's code can be checked.
    private static Task<ChatResult<JsonElement>> Refuse() => Task.FromResult(Error<JsonElement>(ChatErrorCodes.Forbidden, 403));

    private static ChatResult<T> Error<T>(string code, int status) => new(default, new ChatError(code, code, status));

    private static ChatResult<T> Unavailable<T>() => new(default, new ChatError(GatewayErrorCodes.Unavailable, "down", 503));

    private Task<ChatResult<T>> Run<T>(Func<ChatResult<T>> body)
    {
        if (Down)
        {
            return Task.FromResult(Unavailable<T>());
        }
        lock (_lock)
        {
            return Task.FromResult(body());
        }
    }

    private Task<ChatResult<T>> Run<T>(Func<T> body) => Run(() => Ok(body()));

    private static ChatResult<T> Ok<T>(T value) => new(value, null);

    private ChatMessagePosted Posted(FakeChannel c, string sender, string clientMessageId, string text) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        OccurredAt = Now,
        StreamId = "chat/" + c.Id,
        Sequence = c.Offset + 1,
        ChannelId = c.Id,
        Kind = c.Kind,
        Epoch = c.Epoch,
        Offset = c.Offset + 1,
        SenderId = sender,
        ClientMessageId = clientMessageId,
        Text = text,
    };

    private ChatMemberJoined Joined(FakeChannel c, string playerId) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        OccurredAt = Now,
        StreamId = "chat/" + c.Id,
        Sequence = c.Offset + 1,
        ChannelId = c.Id,
        Kind = c.Kind,
        Epoch = c.Epoch,
        Offset = c.Offset + 1,
        PlayerId = playerId,
        Role = ChannelRole.Member,
    };

    private sealed class FakeChannel(string id, ChannelKind kind)
    {
        public string Id { get; } = id;

        public ChannelKind Kind { get; } = kind;

        public long Epoch { get; } = 1;

        public long Offset { get; private set; }

        public long FirstAvailable { get; set; } = 1;

        public Dictionary<string, ChannelRole> Members { get; } = new(StringComparer.Ordinal);

        public List<ChannelEvent> Events { get; } = [];

        public void Append(ChannelEvent e)
        {
            Events.Add(e);
            Offset = e.Offset;
        }

        public ChannelInfo Info() => new(Id, Kind, Id, Members.Count, Epoch, Offset);

        public HistoryPage Page(long after, int limit)
        {
            var truncated = after + 1 < FirstAvailable && Offset >= FirstAvailable;
            var events = Events.Where(e => e.Offset > after).Take(limit).ToList();
            return new HistoryPage(Id, Epoch, Offset, FirstAvailable, truncated, events);
        }
    }
}
