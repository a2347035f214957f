using System.Text;
using System.Text.Json;
using CsCheck;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>
/// RELIABILITY #24 property tests: whatever arrives, the parser never throws and answers either a valid command or a
/// typed error; valid commands always pass their validator. Seeds are fixed so a failure replays.
/// </summary>
public sealed class EnvelopePropertyTests
{
    private static readonly string[] s_types = [.. Envelope.RequestTypes, "nope", "", "PING"];
    private static readonly string[] s_fields = ["channelId", "playerId", "clientMessageId", "text", "offset", "after", "limit", "kind", "name", "role", "until", "reason", "resumeToken", "positions"];
    private static readonly HashSet<string> s_codes = [GatewayErrorCodes.BadRequest, GatewayErrorCodes.UnknownType, GatewayErrorCodes.Invalid];

    private static readonly Gen<string> s_scalarJson = Gen.OneOf(
        Gen.Const("null"), Gen.Const("true"), Gen.Const("{}"), Gen.Const("[]"), Gen.Const("\"room\""), Gen.Const("\"moderator\""),
        Gen.Long.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "1e400"),
        Gen.String.Select(s => JsonSerializer.Serialize(s)),
        Gen.String[Gen.Char["a-z0-9-"], 0, 140].Select(s => JsonSerializer.Serialize(s)),
        Gen.Const("{\"room-a\":{\"epoch\":1,\"offset\":2}}"));

    private static readonly Gen<string> s_dataJson = Gen.Select(Gen.Int[0, s_fields.Length - 1], s_scalarJson).Array[0, 6]
        .Select(pairs => "{" + string.Join(",", pairs.Select(p => $"\"{s_fields[p.Item1]}\":{p.Item2}")) + "}");

    private static readonly Gen<string> s_envelopeJson = Gen.Select(Gen.Int[0, s_types.Length - 1], s_dataJson, Gen.OneOf(Gen.Const("\"c1\""), Gen.Const("null"), Gen.Const("7"), Gen.Const(JsonSerializer.Serialize(new string('x', 70)))))
        .Select((t, data, cid) => $"{{\"type\":\"{s_types[t]}\",\"cid\":{cid},\"data\":{data}}}");

    [Fact]
    public void Random_bytes_never_throw_and_always_get_a_typed_error()
    {
        Gen.Byte.Array[0, 300].Sample(bytes => AssertTyped(Envelope.Parse(bytes)), iter: 2000, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Random_envelopes_are_valid_commands_or_typed_errors()
    {
        var valid = 0;
        s_envelopeJson.Sample(json =>
        {
            var parsed = Envelope.Parse(Encoding.UTF8.GetBytes(json));
            AssertTyped(parsed);
            if (parsed.Command is { } command)
            {
                valid++;
                Assert.Null(command.Validate());
                Assert.Contains(command.Type, Envelope.RequestTypes);
            }
        }, iter: 3000, seed: "0N0XIzNsQ0O3");
        Assert.True(valid > 0, "the generator never produced a valid command, so the property checked nothing on that side");
    }

    [Fact]
    public void Mutated_valid_frames_never_throw()
    {
        const string Valid = """{"type":"message.send","cid":"m1","data":{"channelId":"room-lobby","clientMessageId":"x","text":"hi"}}""";
        Assert.NotNull(Envelope.Parse(Encoding.UTF8.GetBytes(Valid)).Command);
        Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.Char, Gen.Int[0, 2]).Array[1, 5].Sample(edits =>
        {
            var sb = new StringBuilder(Valid);
            foreach (var (at, c, op) in edits)
            {
                var i = Math.Min(at, sb.Length - 1);
                if (i < 0)
                {
                    break;
                }
                _ = op switch { 0 => sb.Remove(i, 1), 1 => sb.Insert(i, c), _ => sb.Replace(sb[i], c, i, 1) };
            }
            AssertTyped(Envelope.Parse(Encoding.UTF8.GetBytes(sb.ToString())));
        }, iter: 3000, seed: "0N0XIzNsQ0O4");
    }

    [Fact]
    public void Field_validators_accept_exactly_their_documented_ranges()
    {
        Gen.String.Sample(s =>
        {
            var ok = Fields.Id(s, "id") is null;
            var expected = s.Length is > 0 and <= Fields.MaxIdLength && s is not ("." or "..")
                && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
            Assert.Equal(expected, ok);
        }, iter: 2000, seed: "0N0XIzNsQ0O5");
        Gen.Int[-5, 300].Sample(limit =>
            Assert.Equal(limit is >= 1 and <= 200, new ChannelHistoryCommand { ChannelId = "room-a", Limit = limit }.Validate() is null), iter: 1000, seed: "0N0XIzNsQ0O6");
        Gen.Int[0, 4100].Sample(n =>
            Assert.Equal(n is >= 1 and <= Fields.MaxTextLength, Fields.Text(new string('a', n), "text") is null), iter: 1000, seed: "0N0XIzNsQ0O7");
    }

    private static void AssertTyped(ParsedRequest parsed)
    {
        if (parsed.Command is null)
        {
            Assert.True(parsed.ErrorCode is not null && s_codes.Contains(parsed.ErrorCode), $"untyped error {parsed.ErrorCode}");
            Assert.False(string.IsNullOrEmpty(parsed.ErrorMessage));
        }
        else
        {
            Assert.Null(parsed.ErrorCode);
        }
        Assert.True(parsed.Cid is null || parsed.Cid.Length <= Fields.MaxCidLength);
    }
}
