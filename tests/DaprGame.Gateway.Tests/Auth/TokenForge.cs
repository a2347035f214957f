using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DaprGame.Gateway.Tests.Auth;

/// <summary>Builds access tokens the way an attacker (or a buggy issuer) would: any header, any claims, any signature.</summary>
internal static class TokenForge
{
    public static (JsonObject Header, JsonObject Payload) Split(string token)
    {
        var parts = token.Split('.');
        return (JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!.AsObject(), JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject());
    }

    public static string Es256(ECDsa key, JsonObject header, JsonObject payload, DSASignatureFormat format = DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
    {
        var input = SigningInput(header, payload);
        return input + "." + Base64Url.EncodeToString(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, format));
    }

    public static string Hs256(byte[] secret, JsonObject header, JsonObject payload)
    {
        var input = SigningInput(header, payload);
        return input + "." + Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    public static string Unsigned(JsonObject header, JsonObject payload) => SigningInput(header, payload) + ".";

    public static string SigningInput(JsonObject header, JsonObject payload) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));

    /// <summary>A deep copy with <paramref name="change"/> applied.</summary>
    public static JsonObject With(this JsonObject source, Action<JsonObject> change)
    {
        var copy = JsonNode.Parse(source.ToJsonString())!.AsObject();
        change(copy);
        return copy;
    }

    public static string Kid(string token) => Split(token).Header["kid"]!.GetValue<string>();

    public static JsonElement Json(string text) => JsonSerializer.Deserialize<JsonElement>(text);
}
