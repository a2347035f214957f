using System.Collections.Immutable;
using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>A chat message as the history shows it; a deleted message keeps its slot with empty text.</summary>
public sealed record ChatMessage(long Offset, string SenderId, string Text, DateTimeOffset PostedAt, bool Edited, bool Deleted);

/// <summary>
/// Per channel, messages by offset from <c>chat.message.posted/edited/deleted.v1</c>. An edit or delete whose target
/// is not (yet) in the history is ignored: chat orders a channel's events itself, so that only happens for history
/// the log never had.
/// </summary>
public sealed class ChatHistoryView : View
{
    public const string Posted = "chat.message.posted.v1";
    public const string Edited = "chat.message.edited.v1";
    public const string Deleted = "chat.message.deleted.v1";

    private readonly SortedDictionary<string, ImmutableSortedDictionary<long, ChatMessage>> _channels = new(StringComparer.Ordinal);

    public ChatHistoryView()
    {
    }

    /// <summary>A view holding <paramref name="state"/>, as read back from a stored snapshot's <see cref="State"/>.</summary>
    public ChatHistoryView(IEnumerable<KeyValuePair<string, ImmutableSortedDictionary<long, ChatMessage>>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (key, value) in state)
        {
            _channels[key] = value;
        }
    }

    /// <summary>The whole state (messages per channel), for the host to serialise; values are immutable.</summary>
    public IReadOnlyDictionary<string, ImmutableSortedDictionary<long, ChatMessage>> State => _channels;

    public override string Name => "chat-history";

    /// <summary>Up to <paramref name="limit"/> messages of a channel with offset ≥ <paramref name="fromOffset"/>, ascending.</summary>
    public IReadOnlyList<ChatMessage> Page(string channelId, long fromOffset, int limit)
    {
        var page = new List<ChatMessage>();
        if (_channels.TryGetValue(channelId, out var messages))
        {
            foreach (var (offset, message) in messages)
            {
                if (page.Count >= limit)
                {
                    break;
                }
                if (offset >= fromOffset)
                {
                    page.Add(message);
                }
            }
        }
        return page;
    }

    public override bool Handles(string eventType) => eventType is Posted or Edited or Deleted;

    public override void Apply(LogRecord record, JsonElement data)
    {
        var channelId = JsonFields.String(data, "channelId");
        var messages = _channels.GetValueOrDefault(channelId) ?? ImmutableSortedDictionary<long, ChatMessage>.Empty;
        switch (record.Type)
        {
            case Posted:
                var offset = JsonFields.Long(data, "offset");
                var posted = new ChatMessage(offset, JsonFields.String(data, "senderId"), JsonFields.String(data, "text"), record.OccurredAt, false, false);
                messages = messages.SetItem(offset, posted);
                break;
            case Edited:
                var edit = (Target: JsonFields.Long(data, "targetOffset"), Text: JsonFields.String(data, "text"));
                if (messages.TryGetValue(edit.Target, out var original) && !original.Deleted)
                {
                    messages = messages.SetItem(edit.Target, original with { Text = edit.Text, Edited = true });
                }
                break;
            default:
                var target = JsonFields.Long(data, "targetOffset");
                if (messages.TryGetValue(target, out var removed))
                {
                    messages = messages.SetItem(target, removed with { Text = "", Deleted = true });
                }
                break;
        }
        _channels[channelId] = messages;
    }

    public override void Clear() => _channels.Clear();

    public override View Clone() => new ChatHistoryView(_channels);

    protected override void WriteContent(ContentHasher hasher)
    {
        foreach (var (channel, messages) in _channels)
        {
            hasher.Add(channel).Add(messages.Count);
            foreach (var (offset, m) in messages)
            {
                hasher.Add(offset).Add(m.SenderId).Add(m.Text).Add(m.PostedAt).Add(m.Edited).Add(m.Deleted);
            }
        }
    }
}
