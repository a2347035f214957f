using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DaprGame.Chat.Infrastructure;

/// <summary>The chat service's meter and activity source (<c>DaprGame.Chat</c>).</summary>
public sealed class ChatMetrics : IDisposable
{
    public const string Name = "DaprGame.Chat";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _posted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _moderation;
    private readonly Counter<long> _published;

    public ChatMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        _posted = _meter.CreateCounter<long>("daprgame.chat.messages.posted", description: "Messages stored and queued for publishing");
        _rejected = _meter.CreateCounter<long>("daprgame.chat.messages.rejected", description: "Commands refused, by reason (error code)");
        _moderation = _meter.CreateCounter<long>("daprgame.chat.moderation.actions", description: "Moderation audit records, by action");
        _published = _meter.CreateCounter<long>("daprgame.chat.events.published", description: "Channel events published to the chat topic");
    }

    public void Posted(string kind) => _posted.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Rejected(string operation, string reason) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("reason", reason));

    public void Moderation(string action) => _moderation.Add(1, new KeyValuePair<string, object?>("action", action));

    public void Published(int count) => _published.Add(count);

    public void Dispose() => _meter.Dispose();
}
