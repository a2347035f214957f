using System.Buffers.Binary;

namespace DaprGame.Persistence.Domain.Backup;

/// <summary>
/// The plaintext header, 38 bytes, integers big-endian: magic <c>DGBK</c> (4), format version (2), archive id (16,
/// random), key fingerprint (8), nonce prefix (4, random), chunk size (4). Every chunk's associated data starts with
/// these exact bytes, so changing any of them fails the first chunk's tag.
/// </summary>
internal sealed class BackupHeader
{
    public const int Length = 38;

    public static ReadOnlySpan<byte> Magic => "DGBK"u8;

    public BackupHeader(int version, byte[] archiveId, byte[] fingerprint, byte[] noncePrefix, int chunkSize)
    {
        Version = version;
        ArchiveId = archiveId;
        Fingerprint = fingerprint;
        NoncePrefix = noncePrefix;
        ChunkSize = chunkSize;
        Bytes = new byte[Length];
        Magic.CopyTo(Bytes);
        BinaryPrimitives.WriteUInt16BigEndian(Bytes.AsSpan(4), (ushort)version);
        archiveId.CopyTo(Bytes, 6);
        fingerprint.CopyTo(Bytes, 22);
        noncePrefix.CopyTo(Bytes, 30);
        BinaryPrimitives.WriteInt32BigEndian(Bytes.AsSpan(34), chunkSize);
    }

    public int Version { get; }

    public byte[] ArchiveId { get; }

    public byte[] Fingerprint { get; }

    public byte[] NoncePrefix { get; }

    public int ChunkSize { get; }

    public byte[] Bytes { get; }

    public string ArchiveIdHex => Convert.ToHexStringLower(ArchiveId);

    public static bool HasMagic(ReadOnlySpan<byte> bytes) => bytes[..4].SequenceEqual(Magic);

    public static int ReadVersion(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]);

    /// <summary>Fields of a header whose magic and version were checked; the chunk size is range-checked by the caller.</summary>
    public static BackupHeader Parse(ReadOnlySpan<byte> bytes) => new(
        ReadVersion(bytes), bytes[6..22].ToArray(), bytes[22..30].ToArray(), bytes[30..34].ToArray(),
        BinaryPrimitives.ReadInt32BigEndian(bytes[34..]));

    /// <summary>96-bit nonce: the archive's random prefix, then the chunk counter.</summary>
    public void Nonce(long chunk, Span<byte> nonce)
    {
        NoncePrefix.CopyTo(nonce);
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], chunk);
    }

    /// <summary>Associated data of a chunk: the header, the chunk index and whether it is the final chunk, so that
    /// reordering, dropping, duplicating or cutting chunks (or moving them between archives) fails a tag.</summary>
    public void AssociatedData(long chunk, bool final, Span<byte> aad)
    {
        Bytes.CopyTo(aad);
        BinaryPrimitives.WriteInt64BigEndian(aad[Length..], chunk);
        aad[Length + 8] = final ? (byte)1 : (byte)0;
    }

    public const int AssociatedDataLength = Length + 9;
}
