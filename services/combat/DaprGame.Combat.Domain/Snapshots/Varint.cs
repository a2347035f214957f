namespace DaprGame.Combat.Domain.Snapshots;

/// <summary>LEB128 varints and zigzag for signed values, written into a span the caller sized.</summary>
internal static class Varint
{
    public static int Write(Span<byte> buffer, int position, uint value)
    {
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        buffer[position++] = (byte)value;
        return position;
    }

    public static int WriteSigned(Span<byte> buffer, int position, int value) => Write(buffer, position, ZigZag(value));

    public static uint ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));

    public static int UnZigZag(uint value) => (int)(value >> 1) ^ -(int)(value & 1);
}

/// <summary>Reads a buffer written with <see cref="Varint"/>; any overrun or over-long varint is <see cref="InvalidDataException"/>.</summary>
internal ref struct SpanReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;

    public int Position { get; private set; }

    public readonly int Remaining => _buffer.Length - Position;

    public byte ReadByte()
    {
        if (Position >= _buffer.Length)
        {
            throw new InvalidDataException("the buffer ends early");
        }
        return _buffer[Position++];
    }

    public uint ReadVarint()
    {
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = ReadByte();
            if (shift == 28 && b > 0x0F)
            {
                throw new InvalidDataException("a varint overflows 32 bits");
            }
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
        throw new InvalidDataException("a varint is longer than 5 bytes");
    }

    public int ReadVarintInt()
    {
        var value = ReadVarint();
        return value > int.MaxValue ? throw new InvalidDataException("a count or id is out of range") : (int)value;
    }

    public int ReadSigned() => Varint.UnZigZag(ReadVarint());

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new InvalidDataException("the buffer ends early");
        }
        var span = _buffer.Slice(Position, count);
        Position += count;
        return span;
    }
}
