using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DaprGame.Persistence.Domain.Log;

/// <summary>
/// The canonical encoding behind the chain: a version tag, then each field in a fixed order — integers as 8-byte
/// big-endian, strings as UTF-8 prefixed by their byte length, <c>occurredAt</c> as UTC ticks plus its offset in
/// minutes, the data bytes length-prefixed, and last the previous record's hash. Length prefixes make the encoding
/// unambiguous (no two different records encode alike). Changing any of this changes every hash: add a new tag instead.
/// </summary>
public static class RecordHash
{
    /// <summary>The previous hash of position 1: 32 zero bytes.</summary>
    public static ReadOnlySpan<byte> Genesis => new byte[32];

    private static ReadOnlySpan<byte> Tag => "plog/1"u8;

    public static byte[] Compute(LogRecord record) => Compute(
        record.Position, record.Kind, record.StreamId, record.StreamVersion, record.Sequence, record.Flags,
        record.EventId, record.Type, record.OccurredAt, record.Data, record.PreviousHash);

    public static byte[] Compute(
        long position, RecordKind kind, string streamId, long streamVersion, long sequence, RecordFlags flags,
        string eventId, string type, DateTimeOffset occurredAt, ReadOnlySpan<byte> data, ReadOnlySpan<byte> previousHash)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Tag);
        AppendLong(hash, position);
        AppendLong(hash, (long)kind);
        AppendString(hash, streamId);
        AppendLong(hash, streamVersion);
        AppendLong(hash, sequence);
        AppendLong(hash, (long)flags);
        AppendString(hash, eventId);
        AppendString(hash, type);
        AppendLong(hash, occurredAt.UtcTicks);
        AppendLong(hash, (long)occurredAt.Offset.TotalMinutes);
        AppendLong(hash, data.Length);
        hash.AppendData(data);
        AppendLong(hash, previousHash.Length);
        hash.AppendData(previousHash);
        return hash.GetHashAndReset();
    }

    /// <summary>
    /// What "the same event" means for deduplication: SHA-256 over type, stream, sequence, occurredAt and data (not the
    /// id, which is the lookup key, nor anything the log assigns).
    /// </summary>
    public static byte[] Content(IncomingEvent e)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("plog-content/1"u8);
        AppendString(hash, e.Type);
        AppendString(hash, e.StreamId);
        AppendLong(hash, e.Sequence);
        AppendLong(hash, e.OccurredAt.UtcTicks);
        AppendLong(hash, (long)e.OccurredAt.Offset.TotalMinutes);
        AppendLong(hash, e.Data.Length);
        hash.AppendData(e.Data);
        return hash.GetHashAndReset();
    }

    private static void AppendLong(IncrementalHash hash, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(buffer, value);
        hash.AppendData(buffer);
    }

    private static void AppendString(IncrementalHash hash, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        AppendLong(hash, length);
        if (length <= 256)
        {
            Span<byte> buffer = stackalloc byte[256];
            var written = Encoding.UTF8.GetBytes(value, buffer);
            hash.AppendData(buffer[..written]);
        }
        else
        {
            hash.AppendData(Encoding.UTF8.GetBytes(value));
        }
    }
}
