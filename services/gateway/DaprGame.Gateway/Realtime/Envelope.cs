using System.Text.Json;

namespace DaprGame.Gateway.Realtime;

/// <summary>
/// The outcome of reading one inbound frame: a valid <see cref="Command"/>, or an error code and message. <see cref="Cid"/>
/// is the client's correlation id when it could be read (null otherwise), echoed on the reply.
/// </summary>
public readonly record struct ParsedRequest(string? Cid, Command? Command, string? ErrorCode, string? ErrorMessage)
{
    public static ParsedRequest Fail(string? cid, string code, string message) => new(cid, null, code, message);
}

/// <summary>
/// Reads the socket envelope <c>{type, cid, data}</c>. It never throws: anything that is not a valid request becomes
/// <c>bad_request</c> (unreadable), <c>unknown_type</c> or <c>invalid</c> (fields), as the protocol section of the
/// gateway README describes.
/// </summary>
public static class Envelope
{
    private static readonly JsonDocumentOptions s_documentOptions = new() { MaxDepth = 16 };

    private static readonly Dictionary<string, Func<JsonElement, Command?>> s_readers = new(StringComparer.Ordinal)
    {
        [PingCommand.Name] = _ => new PingCommand(),
        [ChannelsListCommand.Name] = _ => new ChannelsListCommand(),
        [ChannelsMineCommand.Name] = _ => new ChannelsMineCommand(),
        [ChannelCreateCommand.Name] = Read<ChannelCreateCommand>,
        [ChannelGetCommand.Name] = Read<ChannelGetCommand>,
        [ChannelJoinCommand.Name] = Read<ChannelJoinCommand>,
        [ChannelLeaveCommand.Name] = Read<ChannelLeaveCommand>,
        [ChannelHistoryCommand.Name] = Read<ChannelHistoryCommand>,
        [MessageSendCommand.Name] = Read<MessageSendCommand>,
        [MessageEditCommand.Name] = Read<MessageEditCommand>,
        [MessageDeleteCommand.Name] = Read<MessageDeleteCommand>,
        [DirectSendCommand.Name] = Read<DirectSendCommand>,
        [MemberInviteCommand.Name] = Read<MemberInviteCommand>,
        [MemberKickCommand.Name] = Read<MemberKickCommand>,
        [MemberRoleCommand.Name] = Read<MemberRoleCommand>,
        [MuteCommand.Name] = Read<MuteCommand>,
        [UnmuteCommand.Name] = Read<UnmuteCommand>,
        [BanCommand.Name] = Read<BanCommand>,
        [UnbanCommand.Name] = Read<UnbanCommand>,
        [PurgeCommand.Name] = Read<PurgeCommand>,
        [ReportCreateCommand.Name] = Read<ReportCreateCommand>,
        [ReportsListCommand.Name] = Read<ReportsListCommand>,
        [ResumeCommand.Name] = Read<ResumeCommand>,
        [MarketSubscribeCommand.Name] = Read<MarketSubscribeCommand>,
        [MarketUnsubscribeCommand.Name] = Read<MarketUnsubscribeCommand>,
    };

    /// <summary>Every request type the socket accepts.</summary>
    public static IReadOnlyCollection<string> RequestTypes => s_readers.Keys;

    public static ParsedRequest Parse(ReadOnlyMemory<byte> utf8Json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, s_documentOptions);
        }
        catch (JsonException)
        {
            return ParsedRequest.Fail(null, GatewayErrorCodes.BadRequest, "The frame is not valid JSON.");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ParsedRequest.Fail(null, GatewayErrorCodes.BadRequest, "The frame must be a JSON object {type, cid, data}.");
            }

            string? cid = null;
            if (root.TryGetProperty("cid", out var cidElement) && cidElement.ValueKind != JsonValueKind.Null)
            {
                if (cidElement.ValueKind != JsonValueKind.String)
                {
                    return ParsedRequest.Fail(null, GatewayErrorCodes.Invalid, "cid must be a string.");
                }
                cid = cidElement.GetString()!;
                if (cid.Length > Fields.MaxCidLength)
                {
                    return ParsedRequest.Fail(null, GatewayErrorCodes.Invalid, $"cid is longer than {Fields.MaxCidLength} characters.");
                }
            }

            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                return ParsedRequest.Fail(cid, GatewayErrorCodes.BadRequest, "The frame has no string \"type\".");
            }
            var type = typeElement.GetString()!;
            if (!s_readers.TryGetValue(type, out var reader))
            {
                return ParsedRequest.Fail(cid, GatewayErrorCodes.UnknownType, "Unknown request type.");
            }

            var data = root.TryGetProperty("data", out var d) ? d : default;
            if (data.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            {
                data = EmptyObject;
            }
            else if (data.ValueKind != JsonValueKind.Object)
            {
                return ParsedRequest.Fail(cid, GatewayErrorCodes.Invalid, "data must be an object.");
            }

            Command? command;
            try
            {
                command = reader(data);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException or FormatException or OverflowException)
            {
                return ParsedRequest.Fail(cid, GatewayErrorCodes.Invalid, $"data does not fit {type}: a field has the wrong kind of value.");
            }
            if (command is null)
            {
                return ParsedRequest.Fail(cid, GatewayErrorCodes.Invalid, "data must be an object.");
            }
            return command.Validate() is { } error
                ? ParsedRequest.Fail(cid, GatewayErrorCodes.Invalid, error)
                : new ParsedRequest(cid, command, null, null);
        }
    }

    private static JsonElement EmptyObject { get; } = JsonDocument.Parse("{}").RootElement;

    private static T? Read<T>(JsonElement data) where T : Command => data.Deserialize<T>(ServiceDefaultsJson.Commands);
}

/// <summary>How command data is read: the wire options (camelCase, enums as strings) with numbers only as numbers.</summary>
internal static class ServiceDefaultsJson
{
    public static JsonSerializerOptions Commands { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(Hosting.ServiceDefaults.JsonOptions)
        {
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
        };
        options.Converters.Clear();
        options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
