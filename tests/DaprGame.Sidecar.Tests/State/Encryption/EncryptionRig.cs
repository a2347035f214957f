using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DaprGame.Testing;

namespace DaprGame.Sidecar.Tests.State.Encryption;

/// <summary>
/// Resources for an encrypted state store: a <c>secretstores.local.file</c> named <c>secrets</c> holding the keys
/// (its JSON file is written next to the YAML, in the sidecar's working directory), and a state component whose
/// <c>primaryEncryptionKey</c>/<c>secondaryEncryptionKey</c> are <c>secretKeyRef</c>s into it, as users write them.
/// Also decrypts a stored value independently of the sidecar, from daprd's documented layout.
/// </summary>
internal static class EncryptionRig
{
    public const string Store = "statestore";

    /// <summary>Two 32-byte keys and one 16-byte key, hex as the secret holds them.</summary>
    public const string KeyA = "5f6c2a0e1d9b8a7c6e5d4c3b2a190817f6e5d4c3b2a1908f7e6d5c4b3a291807";
    public const string KeyB = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
    public const string Key128 = "00112233445566778899aabbccddeeff";

    public static Dictionary<string, string> Resources(
        string stateType,
        IReadOnlyDictionary<string, string> stateMetadata,
        IReadOnlyDictionary<string, string> secrets,
        string? primary = "key-a",
        string? secondary = null,
        bool actorStore = false)
    {
        var state = new StringBuilder($"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {Store}
            spec:
              type: {stateType}
              version: v1
              metadata:

            """);
        foreach (var (k, v) in stateMetadata)
        {
            state.Append($"  - name: {k}\n    value: \"{v}\"\n");
        }
        if (actorStore)
        {
            state.Append("  - name: actorStateStore\n    value: \"true\"\n");
        }
        foreach (var (field, name) in new[] { ("primaryEncryptionKey", primary), ("secondaryEncryptionKey", secondary) })
        {
            if (name is not null)
            {
                state.Append($"  - name: {field}\n    secretKeyRef:\n      name: {name}\n      key: {name}\n");
            }
        }
        state.Append("auth:\n  secretStore: secrets\n");
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["secrets.yaml"] = Yaml.Component("secrets", "secretstores.local.file", new Dictionary<string, string> { ["secretsFile"] = "secrets.json" }),
            ["secrets.json"] = JsonSerializer.Serialize(secrets),
            ["state.yaml"] = state.ToString(),
        };
    }

    public static Dictionary<string, string> Keys(params (string Name, string Hex)[] keys) =>
        keys.ToDictionary(k => k.Name, k => k.Hex, StringComparer.Ordinal);

    /// <summary>Splits <c>base64(nonce‖ciphertext‖tag)||name</c> and opens it with AES-GCM, as daprd's decrypt does.</summary>
    public static (byte[] Plaintext, string KeyName) Open(byte[] stored, string hexKey)
    {
        var text = Encoding.UTF8.GetString(stored);
        var at = text.LastIndexOf("||", StringComparison.Ordinal);
        Assert.True(at > 0, $"stored value '{text}' has no '||keyName' suffix");
        var box = Convert.FromBase64String(text[..at]);
        var plaintext = new byte[box.Length - 12 - 16];
        using var aes = new AesGcm(Convert.FromHexString(hexKey), 16);
        aes.Decrypt(box.AsSpan(0, 12), box.AsSpan(12, plaintext.Length), box.AsSpan(12 + plaintext.Length), plaintext);
        return (plaintext, text[(at + 2)..]);
    }

    public static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;
}
