using System.Net.WebSockets;
using System.Text;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>RELIABILITY #24: bad input gets a typed error (or a close code), and the socket and the server stay usable.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public async Task Malformed_unknown_and_invalid_requests_get_typed_errors_with_the_cid_and_the_socket_stays_usable()
    {
        await using var rig = await GatewayRig.StartAsync();
        rig.Chat.AddChannel("room-lobby", members: ["p1"]);
        await using var socket = await rig.ConnectAsync("p1");
        await socket.ExpectAsync(Frames.Welcome);

        await socket.SendTextAsync("{not json");
        await socket.ExpectErrorAsync(GatewayErrorCodes.BadRequest, cid: null);

        await socket.SendTextAsync("[1,2,3]");
        await socket.ExpectErrorAsync(GatewayErrorCodes.BadRequest, cid: null);

        await socket.SendTextAsync("""{"cid":"a1","data":{}}""");
        await socket.ExpectErrorAsync(GatewayErrorCodes.BadRequest, "a1");

        await socket.SendTextAsync("""{"type":"teleport","cid":"a2"}""");
        await socket.ExpectErrorAsync(GatewayErrorCodes.UnknownType, "a2");

        await socket.SendTextAsync("""{"type":"message.send","cid":"a3","data":{"channelId":"room-lobby","text":"hi"}}""");
        var missing = await socket.ExpectErrorAsync(GatewayErrorCodes.Invalid, "a3");
        Assert.Contains("clientMessageId", missing.GetProperty("data").GetProperty("message").GetString(), StringComparison.Ordinal);

        await socket.SendTextAsync("""{"type":"channel.history","cid":"a4","data":{"channelId":"room-lobby","limit":201}}""");
        await socket.ExpectErrorAsync(GatewayErrorCodes.Invalid, "a4");

        await socket.SendTextAsync("""{"type":"channel.history","cid":"a5","data":{"channelId":"room-lobby","limit":"ten"}}""");
        await socket.ExpectErrorAsync(GatewayErrorCodes.Invalid, "a5");

        await socket.SendTextAsync("""{"type":"channel.join","cid":"a6","data":{"channelId":"../admin"}}""");
        await socket.ExpectErrorAsync(GatewayErrorCodes.Invalid, "a6");

        await socket.SendTextAsync($$"""{"type":"ping","cid":"{{new string('x', 65)}}"}""");
        await socket.ExpectErrorAsync(GatewayErrorCodes.Invalid, cid: null);

        await socket.SendTextAsync("""{"type":"message.send","cid":"a7","data":{"channelId":"room-lobby","clientMessageId":"m1","text":""}}""");
        await socket.ExpectErrorAsync(GatewayErrorCodes.Invalid, "a7");

        // Nothing invalid reached chat, and the socket still works.
        Assert.Empty(rig.Chat.Events("room-lobby"));
        var (ok, _) = await socket.RequestAmidPushesAsync("message.send", new { channelId = "room-lobby", clientMessageId = "m1", text = "hello" });
        Assert.Equal(Frames.Ok, ok.GetProperty("type").GetString());
        Assert.Equal(1, ok.GetProperty("data").GetProperty("offset").GetInt64());

        // Chat's own refusals pass through with chat's code.
        var (refused, _) = await socket.RequestAmidPushesAsync("mod.mute", new { channelId = "room-lobby", playerId = "p2" });
        Assert.Equal("forbidden", refused.GetProperty("data").GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_oversized_message_closes_with_1009_and_other_sockets_are_unaffected()
    {
        await using var rig = await GatewayRig.StartAsync(new Dictionary<string, string?> { ["Gateway:MaxMessageBytes"] = "1024" });
        await using var bystander = await rig.ConnectAsync("p2");
        await bystander.ExpectAsync(Frames.Welcome);
        await using var socket = await rig.ConnectAsync("p1");
        await socket.ExpectAsync(Frames.Welcome);

        // Exactly at the cap is fine.
        const string Prefix = "{\"type\":\"ping\",\"cid\":\"x\",\"data\":{\"pad\":\"";
        const string Suffix = "\"}}";
        var atCap = Prefix + new string('a', 1024 - Prefix.Length - Suffix.Length) + Suffix;
        Assert.Equal(1024, Encoding.UTF8.GetByteCount(atCap));
        await socket.SendTextAsync(atCap);
        Assert.Equal(Frames.Ok, (await socket.ReceiveAsync("the reply at the cap")).GetProperty("type").GetString());

        await socket.SendTextAsync(Prefix + new string('a', 1024 - Prefix.Length - Suffix.Length + 1) + Suffix);
        await socket.ReadUntilClosedAsync();
        Assert.Equal((WebSocketCloseStatus)CloseCodes.MessageTooBig, socket.CloseStatus);

        Assert.Equal(Frames.Ok, (await bystander.RequestAsync("ping", null)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Binary_frames_close_with_1003_and_invalid_utf8_with_1007()
    {
        await using var rig = await GatewayRig.StartAsync();
        await using var binary = await rig.ConnectAsync("p1", "s1");
        await binary.ExpectAsync(Frames.Welcome);
        await binary.SendBytesAsync([1, 2, 3], WebSocketMessageType.Binary);
        await binary.ReadUntilClosedAsync();
        Assert.Equal((WebSocketCloseStatus)CloseCodes.UnsupportedData, binary.CloseStatus);

        await using var garbled = await rig.ConnectAsync("p1", "s2");
        await garbled.ExpectAsync(Frames.Welcome);
        await garbled.SendBytesAsync([(byte)'{', 0xC3, 0x28, (byte)'}'], WebSocketMessageType.Text);
        await garbled.ReadUntilClosedAsync();
        Assert.Equal((WebSocketCloseStatus)CloseCodes.InvalidPayload, garbled.CloseStatus);
    }
}
