using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using DaprGame.Sidecar.Components;

namespace DaprGame.Sidecar.State.Encryption;

/// <summary>One AES key of a component, named by the <c>secretKeyRef.name</c> it was read from.</summary>
public sealed class EncryptionKey
{
    internal EncryptionKey(string name, byte[] key)
    {
        Name = name;
        Key = key;
    }

    /// <summary>The secret's name: the suffix written after <c>||</c> on every value this key encrypted.</summary>
    public string Name { get; }

    internal byte[] Key { get; }
}

/// <summary>A stored value could not be decrypted (unknown key name, tampered or truncated data).</summary>
public sealed class StateDecryptionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// daprd's automatic state encryption (<c>pkg/encryption</c>, v1 scheme; shared/dapr-contract.md §4.9): AES-GCM with
/// a 12-byte random nonce, no associated data; the stored value is <c>base64(nonce‖ciphertext‖tag) + "||" + keyName</c>.
/// Writes use the primary key; reads pick the key by the name after the last <c>||</c>, so values written under the
/// old key stay readable once it is demoted to <c>secondaryEncryptionKey</c>.
/// </summary>
public sealed class StateEncryption
{
    public const string PrimaryField = "primaryEncryptionKey";
    public const string SecondaryField = "secondaryEncryptionKey";

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Separator = "||"u8.ToArray();

    private StateEncryption(string storeName, EncryptionKey primary, EncryptionKey? secondary)
    {
        StoreName = storeName;
        Primary = primary;
        Secondary = secondary;
    }

    public string StoreName { get; }

    public EncryptionKey Primary { get; }

    public EncryptionKey? Secondary { get; }

    /// <summary>
    /// Reads the keys from a state component's metadata; null when it sets neither. Throws <see cref="FormatException"/>
    /// (with daprd's "failed to extract encryption key" prefix) for a key given as a plain value, a value that is not
    /// hex, or a length AES does not take. The secret itself was resolved by the loader, which already refused a
    /// missing secret or a component without <c>auth.secretStore</c>.
    /// </summary>
    public static StateEncryption? FromSpec(ComponentSpec spec)
    {
        var primary = ReadKey(spec, PrimaryField);
        var secondary = ReadKey(spec, SecondaryField);
        if (primary is null)
        {
            // daprd would silently run unencrypted here; a secondary key alone is always a half-done rotation.
            return secondary is null ? null : throw new FormatException($"failed to extract encryption key: '{SecondaryField}' is set but '{PrimaryField}' is not");
        }
        if (secondary is not null && secondary.Name == primary.Name)
        {
            throw new FormatException($"failed to extract encryption key: '{PrimaryField}' and '{SecondaryField}' both name secret '{primary.Name}'; the key name written with each value must tell them apart");
        }
        return new StateEncryption(spec.Name, primary, secondary);
    }

    private static EncryptionKey? ReadKey(ComponentSpec spec, string field)
    {
        if (spec.Get(field) is not { } value)
        {
            return null;
        }
        if (!spec.SecretRefs.TryGetValue(field, out var secretName))
        {
            throw new FormatException($"failed to extract encryption key: metadata '{field}' must be a secretKeyRef to a secret store (auth.secretStore), not a plain value");
        }
        if (value.Length == 0)
        {
            throw new FormatException($"failed to extract encryption key: encryption key cannot be empty (secret '{secretName}')");
        }
        byte[] key;
        try
        {
            key = Convert.FromHexString(value);
        }
        catch (FormatException)
        {
            throw new FormatException($"failed to extract encryption key: secret '{secretName}' for '{field}' is not a hex-encoded AES key");
        }
        if (key.Length is not (16 or 24 or 32))
        {
            throw new FormatException($"failed to extract encryption key: secret '{secretName}' for '{field}' decodes to {key.Length} bytes; an AES key is 16, 24 or 32 bytes (32, 48 or 64 hex digits)");
        }
        return new EncryptionKey(secretName, key);
    }

    /// <summary>Encrypts the value bytes exactly as the app sent them, under the primary key.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var sealedBox = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = sealedBox.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(Primary.Key, TagSize))
        {
            aes.Encrypt(nonce, plaintext, sealedBox.AsSpan(NonceSize, plaintext.Length), sealedBox.AsSpan(NonceSize + plaintext.Length));
        }
        var name = Encoding.UTF8.GetBytes(Primary.Name);
        var stored = new byte[Base64.GetMaxEncodedToUtf8Length(sealedBox.Length) + Separator.Length + name.Length];
        Base64.EncodeToUtf8(sealedBox, stored, out _, out var written);
        Separator.CopyTo(stored, written);
        name.CopyTo(stored, written + Separator.Length);
        return stored;
    }

    /// <summary>
    /// Decrypts a stored value. Empty stays empty (daprd returns it as is). A value whose key name is neither the
    /// primary nor the secondary, or that fails authentication, throws <see cref="StateDecryptionException"/>:
    /// never garbage.
    /// </summary>
    public byte[] Decrypt(ReadOnlySpan<byte> stored)
    {
        if (stored.IsEmpty)
        {
            return [];
        }
        var at = stored.LastIndexOf(Separator);
        var keyName = at < 0 ? "" : Encoding.UTF8.GetString(stored[(at + Separator.Length)..]);
        if (keyName.Length == 0)
        {
            throw new StateDecryptionException($"could not decrypt data for state store {StoreName}: encryption key name not found on record");
        }
        var key = keyName == Primary.Name ? Primary : keyName == Secondary?.Name ? Secondary : null;
        if (key is null)
        {
            throw new StateDecryptionException($"could not decrypt data for state store {StoreName}: the value was encrypted with key '{keyName}', which is neither the primary ('{Primary.Name}') nor the secondary ({(Secondary is null ? "none" : $"'{Secondary.Name}'")}) encryption key");
        }
        var sealedBox = new byte[Base64.GetMaxDecodedFromUtf8Length(at)];
        if (Base64.DecodeFromUtf8(stored[..at], sealedBox, out _, out var length) != System.Buffers.OperationStatus.Done || length < NonceSize + TagSize)
        {
            throw new StateDecryptionException($"could not decrypt data for state store {StoreName}: the stored value is not base64(nonce, ciphertext, tag)");
        }
        var box = sealedBox.AsSpan(0, length);
        var plaintext = new byte[length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key.Key, TagSize);
            aes.Decrypt(box[..NonceSize], box[NonceSize..^TagSize], box[^TagSize..], plaintext);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new StateDecryptionException($"could not decrypt data for state store {StoreName}: message authentication failed with key '{keyName}'", e);
        }
        return plaintext;
    }
}
