using System.Buffers.Binary;
using System.Text;
using DaprGame.Combat.Domain.Snapshots;

namespace DaprGame.Combat.Domain.Log;

/// <summary>
/// The replay log's binary format (little-endian, varints as in snapshots):
/// <code>
/// "DGCL" version(1 byte = 1)
/// setup: string mode, string map, varint tick rate, u64 seed, varint max players, varint duration, varint score limit, varint bots
/// then operations in the order the match saw them:
///   1 join:  string player, zigzag team
///   2 leave: string player
///   3 input: varint player index (join order), varint sequence, zigzag tick, view tick, entity, move x, move y, aim x, aim y, byte buttons
///   4 step
/// </code>
/// Strings are a varint byte length and UTF-8. Inputs are logged after clamping, so a replay needs no validation.
/// </summary>
internal static class MatchLogFormat
{
    public const byte Version = 1;
    public const byte Join = 1;
    public const byte Leave = 2;
    public const byte Input = 3;
    public const byte Step = 4;

    public static ReadOnlySpan<byte> Magic => "DGCL"u8;
}

/// <summary>Appends operations to the log; grows by doubling, so a tick's operations usually cost no allocation.</summary>
internal sealed class MatchLogWriter
{
    private byte[] _buffer = new byte[4096];
    private int _length;

    public MatchLogWriter(MatchSetup setup)
    {
        Append(MatchLogFormat.Magic);
        AppendByte(MatchLogFormat.Version);
        AppendString(setup.Mode);
        AppendString(setup.Map);
        AppendVarint((uint)setup.TickRate);
        Span<byte> seed = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(seed, setup.Seed);
        Append(seed);
        AppendVarint((uint)setup.MaxPlayers);
        AppendVarint((uint)setup.DurationTicks);
        AppendVarint((uint)setup.ScoreLimit);
        AppendVarint((uint)setup.Bots);
    }

    public int Length => _length;

    public int Capacity => _buffer.Length;

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public void Join(string player, int team)
    {
        AppendByte(MatchLogFormat.Join);
        AppendString(player);
        AppendVarint(Varint.ZigZag(team));
    }

    public void Leave(string player)
    {
        AppendByte(MatchLogFormat.Leave);
        AppendString(player);
    }

    public void Input(int player, in PlayerInput input)
    {
        Ensure(1 + 5 * 10 + 1);
        var b = _buffer.AsSpan();
        var p = _length;
        b[p++] = MatchLogFormat.Input;
        p = Varint.Write(b, p, (uint)player);
        p = Varint.Write(b, p, input.Sequence);
        p = Varint.WriteSigned(b, p, input.Tick);
        p = Varint.WriteSigned(b, p, input.ViewTick);
        p = Varint.WriteSigned(b, p, input.Entity);
        p = Varint.WriteSigned(b, p, input.MoveX);
        p = Varint.WriteSigned(b, p, input.MoveY);
        p = Varint.WriteSigned(b, p, input.AimX);
        p = Varint.WriteSigned(b, p, input.AimY);
        b[p++] = (byte)input.Buttons;
        _length = p;
    }

    public void Step() => AppendByte(MatchLogFormat.Step);

    private void AppendString(string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        AppendVarint((uint)bytes);
        Ensure(bytes);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    private void AppendVarint(uint value)
    {
        Ensure(5);
        _length = Varint.Write(_buffer, _length, value);
    }

    private void AppendByte(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_length + more, _buffer.Length * 2));
        }
    }
}

/// <summary>Reads a log back; anything malformed is <see cref="InvalidDataException"/>.</summary>
internal ref struct MatchLogReader
{
    private SpanReader _reader;

    public MatchLogReader(ReadOnlySpan<byte> log)
    {
        _reader = new SpanReader(log);
        if (!_reader.ReadBytes(4).SequenceEqual(MatchLogFormat.Magic))
        {
            throw new InvalidDataException("not a combat replay log");
        }
        var version = _reader.ReadByte();
        if (version != MatchLogFormat.Version)
        {
            throw new InvalidDataException($"replay log version {version} is not supported (expected {MatchLogFormat.Version})");
        }
        var mode = ReadString();
        var map = ReadString();
        var tickRate = _reader.ReadVarintInt();
        var seed = BinaryPrimitives.ReadUInt64LittleEndian(_reader.ReadBytes(8));
        Setup = new MatchSetup(mode, map, tickRate, seed, _reader.ReadVarintInt(), _reader.ReadVarintInt(), _reader.ReadVarintInt(), _reader.ReadVarintInt());
    }

    public MatchSetup Setup { get; }

    public readonly bool End => _reader.Remaining == 0;

    public byte ReadOperation() => _reader.ReadByte();

    public string ReadString()
    {
        var length = _reader.ReadVarintInt();
        return Encoding.UTF8.GetString(_reader.ReadBytes(length));
    }

    public int ReadSigned() => _reader.ReadSigned();

    public int ReadIndex() => _reader.ReadVarintInt();

    public PlayerInput ReadInput() => new()
    {
        Sequence = _reader.ReadVarint(),
        Tick = _reader.ReadSigned(),
        ViewTick = _reader.ReadSigned(),
        Entity = _reader.ReadSigned(),
        MoveX = ReadShort(),
        MoveY = ReadShort(),
        AimX = ReadShort(),
        AimY = ReadShort(),
        Buttons = (InputButtons)_reader.ReadByte(),
    };

    private short ReadShort()
    {
        var value = _reader.ReadSigned();
        return value is < short.MinValue or > short.MaxValue ? throw new InvalidDataException("an input value is out of range") : (short)value;
    }
}
