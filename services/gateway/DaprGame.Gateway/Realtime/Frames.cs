using System.Buffers;
using System.Text.Json;
using DaprGame.Contracts.Chat;
using DaprGame.Hosting;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// Builds outbound frames as UTF-8 bytes. A pushed event is serialized once here and the same bytes go to every
/// recipient (<see cref="ChannelFeed"/>); replies are serialized once for their one socket.
/// </summary>
public static class Frames
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Welcome = "session.welcome";
    public const string HistoryTruncated = "history.truncated";

    public static byte[] Reply(string? cid, object? data) =>
        Write(cid, Ok, w =>
        {
            w.WritePropertyName("data");
            if (data is null)
            {
                w.WriteStartObject();
                w.WriteEndObject();
            }
            else
            {
                JsonSerializer.Serialize(w, data, data.GetType(), ServiceDefaults.JsonOptions);
            }
        });

    public static byte[] Fail(string? cid, string code, string message, long? retryAfterMs = null) =>
        Write(cid, Error, w =>
        {
            w.WriteStartObject("data");
            w.WriteString("code", code);
            w.WriteString("message", message);
            if (retryAfterMs is { } ms)
            {
                w.WriteNumber("retryAfterMs", ms);
            }
            w.WriteEndObject();
        });

    /// <summary><c>{type: "&lt;event type&gt;", data: &lt;the event, with its own type&gt;}</c>.</summary>
    public static byte[] Push(ChannelEvent evt) =>
        Write(null, EventTypeOf(evt), w =>
        {
            w.WritePropertyName("data");
            JsonSerializer.Serialize(w, evt, ServiceDefaults.JsonOptions);
        });

    /// <summary><c>{type, data}</c> for an event read as JSON (trading events, whose type is not inside them).</summary>
    public static byte[] Push(string type, JsonElement data) =>
        Write(null, type, w =>
        {
            w.WritePropertyName("data");
            data.WriteTo(w);
        });

    public static byte[] Truncated(string channelId, long epoch, long firstAvailableOffset) =>
        Write(null, HistoryTruncated, w =>
        {
            w.WriteStartObject("data");
            w.WriteString("channelId", channelId);
            w.WriteNumber("epoch", epoch);
            w.WriteNumber("firstAvailableOffset", firstAvailableOffset);
            w.WriteEndObject();
        });

    public static byte[] SessionWelcome(string connectionId, string resumeToken, IReadOnlyList<ChannelInfo> channels) =>
        Write(null, Welcome, w =>
        {
            w.WriteStartObject("data");
            w.WriteString("connectionId", connectionId);
            w.WriteString("resumeToken", resumeToken);
            w.WritePropertyName("channels");
            JsonSerializer.Serialize(w, channels, ServiceDefaults.JsonOptions);
            w.WriteEndObject();
        });

    public static string EventTypeOf(ChannelEvent evt) => evt switch
    {
        ChatMessagePosted => ChatMessagePosted.EventType,
        ChatMessageEdited => ChatMessageEdited.EventType,
        ChatMessageDeleted => ChatMessageDeleted.EventType,
        ChatMemberJoined => ChatMemberJoined.EventType,
        ChatMemberLeft => ChatMemberLeft.EventType,
        _ => "chat.unknown",
    };

    private static byte[] Write(string? cid, string type, Action<Utf8JsonWriter> data)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            if (cid is not null)
            {
                w.WriteString("cid", cid);
            }
            else if (type is Ok or Error)
            {
                w.WriteNull("cid");
            }
            data(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
