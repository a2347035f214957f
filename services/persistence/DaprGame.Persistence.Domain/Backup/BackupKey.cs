using System.Security.Cryptography;

namespace DaprGame.Persistence.Domain.Backup;

/// <summary>
/// The 32-byte archive key (the host reads it as 64 hex characters from the secret store). Archives never hold the key,
/// only its <see cref="Fingerprint"/>, so a reader given the wrong key can say so instead of reporting every chunk as
/// tampered. Each archive encrypts with its own key derived from this one and the archive id (HKDF-SHA256), so chunk
/// nonces can never repeat across archives under the same master key.
/// </summary>
public sealed class BackupKey
{
    public const int Length = 32;

    internal const int FingerprintLength = 8;

    private readonly byte[] _key;

    private BackupKey(byte[] key)
    {
        _key = key;
        FingerprintBytes = HMACSHA256.HashData(key, "DGBK key fingerprint v1"u8)[..FingerprintLength];
        Fingerprint = Convert.ToHexStringLower(FingerprintBytes);
    }

    /// <summary>A short public id of the key (HMAC-SHA256 of a fixed label, first 8 bytes, hex): safe to log and to store in archives.</summary>
    public string Fingerprint { get; }

    internal byte[] FingerprintBytes { get; }

    public static BackupKey FromBytes(ReadOnlySpan<byte> key) =>
        key.Length == Length ? new BackupKey(key.ToArray()) : throw new ArgumentException($"a backup key is {Length} bytes, not {key.Length}", nameof(key));

    /// <exception cref="FormatException">Not 64 hex characters (surrounding whitespace is ignored).</exception>
    public static BackupKey FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var trimmed = hex.Trim();
        if (trimmed.Length != Length * 2)
        {
            throw new FormatException($"a backup key is {Length * 2} hex characters, not {trimmed.Length}");
        }
        return new BackupKey(Convert.FromHexString(trimmed));
    }

    /// <summary>Never prints the key.</summary>
    public override string ToString() => $"BackupKey({Fingerprint})";

    internal byte[] DeriveArchiveKey(ReadOnlySpan<byte> archiveId) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, Length, archiveId.ToArray(), "DGBK/1 chunk key"u8.ToArray());
}
