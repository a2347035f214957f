using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Backup;

/// <summary>
/// A <see cref="LogRecord"/> inside an archive, every field exact, integers big-endian: position (8), kind (4),
/// streamId, streamVersion (8), sequence (8), flags (4), eventId, type, occurredAt as UTC ticks (8) and offset minutes
/// (2), data, previousHash, hash — strings and byte fields prefixed by their length (4). Strings are strict UTF-8, as
/// <see cref="RecordHash"/> hashes them.
/// </summary>
internal static class RecordCodec
{
    /// <summary>A record larger than this is refused when reading (it would only come from a corrupt or hostile file).</summary>
    public const int MaxRecordLength = 64 * 1024 * 1024;

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void Write(LogRecord record, ArrayBufferWriter<byte> output)
    {
        Long(output, record.Position);
        Int(output, (int)record.Kind);
        String(output, record.StreamId);
        Long(output, record.StreamVersion);
        Long(output, record.Sequence);
        Int(output, (int)record.Flags);
        String(output, record.EventId);
        String(output, record.Type);
        Long(output, record.OccurredAt.UtcTicks);
        var span = output.GetSpan(2);
        BinaryPrimitives.WriteInt16BigEndian(span, (short)record.OccurredAt.Offset.TotalMinutes);
        output.Advance(2);
        Bytes(output, record.Data);
        Bytes(output, record.PreviousHash);
        Bytes(output, record.Hash);
    }

    /// <exception cref="FormatException">The bytes are not exactly one record.</exception>
    public static LogRecord Read(ReadOnlySpan<byte> input)
    {
        try
        {
            var position = ReadLong(ref input);
            var kind = (RecordKind)ReadInt(ref input);
            var streamId = ReadString(ref input);
            var streamVersion = ReadLong(ref input);
            var sequence = ReadLong(ref input);
            var flags = (RecordFlags)ReadInt(ref input);
            var eventId = ReadString(ref input);
            var type = ReadString(ref input);
            var utcTicks = ReadLong(ref input);
            var offset = TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16BigEndian(Take(ref input, 2)));
            var occurredAt = new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(offset);
            var data = ReadBytes(ref input);
            var previousHash = ReadBytes(ref input);
            var hash = ReadBytes(ref input);
            if (!input.IsEmpty)
            {
                throw new FormatException($"{input.Length} bytes follow record {position}");
            }
            return new LogRecord(position, kind, streamId, streamVersion, sequence, flags, eventId, type, occurredAt, data, previousHash, hash);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"a record field is out of range: {e.Message}", e);
        }
    }

    private static void Long(ArrayBufferWriter<byte> output, long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    private static void Int(ArrayBufferWriter<byte> output, int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    private static void String(ArrayBufferWriter<byte> output, string value)
    {
        var length = Strict.GetByteCount(value);
        Int(output, length);
        Strict.GetBytes(value, output.GetSpan(length));
        output.Advance(length);
    }

    private static void Bytes(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        Int(output, value.Length);
        output.Write(value);
    }

    private static ReadOnlySpan<byte> Take(ref ReadOnlySpan<byte> input, int length)
    {
        if (length < 0 || length > input.Length)
        {
            throw new FormatException("a record field runs past the record's end");
        }
        var taken = input[..length];
        input = input[length..];
        return taken;
    }

    private static long ReadLong(ref ReadOnlySpan<byte> input) => BinaryPrimitives.ReadInt64BigEndian(Take(ref input, 8));

    private static int ReadInt(ref ReadOnlySpan<byte> input) => BinaryPrimitives.ReadInt32BigEndian(Take(ref input, 4));

    private static string ReadString(ref ReadOnlySpan<byte> input) => Strict.GetString(Take(ref input, ReadInt(ref input)));

    private static byte[] ReadBytes(ref ReadOnlySpan<byte> input) => Take(ref input, ReadInt(ref input)).ToArray();
}
