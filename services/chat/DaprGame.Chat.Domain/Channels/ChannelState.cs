using DaprGame.Chat.Domain.Moderation;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Domain.Channels;

/// <summary>
/// A channel's scalar state: what it is, its stream position and the outbox cursor. Small on purpose: it is rewritten
/// by every turn that appends an event.
/// </summary>
public sealed record ChannelMeta
{
    public required string ChannelId { get; init; }

    public required ChannelKind Kind { get; init; }

    public required string Name { get; init; }

    /// <summary>Set once, when the channel is created (unix ms); never changes afterwards.</summary>
    public required long Epoch { get; init; }

    /// <summary>The offset of the newest event (0: none yet).</summary>
    public required long Offset { get; init; }

    /// <summary>The oldest offset still held in the history window (<see cref="Offset"/> + 1 when it is empty).</summary>
    public required long FirstOffset { get; init; }

    /// <summary>Every event up to this offset has been published.</summary>
    public required long PublishedThrough { get; init; }

    /// <summary>Sequence of the channel's moderation audit stream.</summary>
    public required long ModerationSequence { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public string? CreatedBy { get; init; }

    /// <summary>The two players of a direct channel, ordinal order; null for rooms and groups.</summary>
    public IReadOnlyList<string>? Parties { get; init; }
}

/// <summary>Everything a channel keeps, as loaded from storage to restore it.</summary>
public sealed record ChannelSnapshot(
    ChannelMeta Meta,
    IReadOnlyDictionary<string, ChannelRole> Members,
    IReadOnlyList<ChannelEvent> Window,
    ChannelSanctions Sanctions,
    IReadOnlyDictionary<string, string> Invitations,
    IReadOnlyList<ChannelReport> Reports);

/// <summary>
/// What one command changed, so the host writes only that: new events, events rewritten in place (a deleted message
/// is redacted, an edited one holds its new text), events that fell out of the window, members whose role changed
/// (null: removed), and which of the small side records changed. Moderation records are audit events to publish.
/// </summary>
public sealed class ChannelChanges
{
    public List<ChannelEvent> Appended { get; } = [];

    public HashSet<long> Rewritten { get; } = [];

    public HashSet<long> Evicted { get; } = [];

    public Dictionary<string, ChannelRole?> Members { get; } = new(StringComparer.Ordinal);

    public List<Contracts.Chat.ChatModerationAction> Moderation { get; } = [];

    public bool Meta { get; set; }

    public bool Sanctions { get; set; }

    public bool Invitations { get; set; }

    public bool Reports { get; set; }

    public bool IsEmpty => Appended.Count == 0 && Rewritten.Count == 0 && Evicted.Count == 0 && Members.Count == 0
        && Moderation.Count == 0 && !Meta && !Sanctions && !Invitations && !Reports;
}
