using System.Buffers.Binary;
using System.Text.Json;
using DaprGame.Combat.Domain;
using DaprGame.Contracts.Combat;
using DaprGame.Hosting;

namespace DaprGame.Combat.Matches;

/// <summary>The server frames of the match socket (layouts in services/combat/README.md), little-endian.</summary>
public static class MatchFrames
{
    public const int SnapshotHeader = 13;

    /// <summary><c>0x81 | entity i32 | team i32 | tickRate u16 | tick i32</c> (15 bytes).</summary>
    public static byte[] Welcome(int entity, int team, int tickRate, int tick)
    {
        var frame = new byte[15];
        frame[0] = MatchFrameTypes.Welcome;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(1), entity);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(5), team);
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(9), (ushort)tickRate);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(11), tick);
        return frame;
    }

    /// <summary><c>0x82 | tick i32 | baseline i32 | lastProcessedSequence u32</c>, then the simulation's snapshot bytes.</summary>
    public static void WriteSnapshotHeader(Span<byte> span, int tick, int baseline, uint lastSequence)
    {
        span[0] = MatchFrameTypes.Snapshot;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], tick);
        BinaryPrimitives.WriteInt32LittleEndian(span[5..], baseline);
        BinaryPrimitives.WriteUInt32LittleEndian(span[9..], lastSequence);
    }

    /// <summary><c>0x83</c>, then UTF-8 JSON <c>{"reason": …, "result": MatchResultView}</c>.</summary>
    public static byte[] End(string reason, MatchResultView result)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new EndFrame(reason, result), ServiceDefaults.JsonOptions);
        var frame = new byte[json.Length + 1];
        frame[0] = MatchFrameTypes.End;
        json.CopyTo(frame, 1);
        return frame;
    }

    public sealed record EndFrame(string Reason, MatchResultView Result);
}

/// <summary>
/// The client frames of the match socket, both ways: what a .NET client (a bot, a test, a Unity client) writes, and what
/// the server reads. <c>0x01 | seq u32 | tick i32 | viewTick i32 | entity i32 | moveX i16 | moveY i16 | aimX i16 |
/// aimY i16 | buttons u8</c> (26 bytes); <c>0x02 | tick i32</c> (5 bytes).
/// </summary>
public static class ClientFrames
{
    public static void WriteInput(Span<byte> frame, in PlayerInput input)
    {
        frame[0] = MatchFrameTypes.Input;
        BinaryPrimitives.WriteUInt32LittleEndian(frame[1..], input.Sequence);
        BinaryPrimitives.WriteInt32LittleEndian(frame[5..], input.Tick);
        BinaryPrimitives.WriteInt32LittleEndian(frame[9..], input.ViewTick);
        BinaryPrimitives.WriteInt32LittleEndian(frame[13..], input.Entity);
        BinaryPrimitives.WriteInt16LittleEndian(frame[17..], input.MoveX);
        BinaryPrimitives.WriteInt16LittleEndian(frame[19..], input.MoveY);
        BinaryPrimitives.WriteInt16LittleEndian(frame[21..], input.AimX);
        BinaryPrimitives.WriteInt16LittleEndian(frame[23..], input.AimY);
        frame[25] = (byte)input.Buttons;
    }

    public static byte[] Input(in PlayerInput input)
    {
        var frame = new byte[MatchFrameTypes.InputLength];
        WriteInput(frame, input);
        return frame;
    }

    /// <summary>The input in a frame of exactly <see cref="MatchFrameTypes.InputLength"/> bytes of type Input; null otherwise.</summary>
    public static PlayerInput? ReadInput(ReadOnlySpan<byte> frame) =>
        frame.Length != MatchFrameTypes.InputLength || frame[0] != MatchFrameTypes.Input ? null : new PlayerInput
        {
            Sequence = BinaryPrimitives.ReadUInt32LittleEndian(frame[1..]),
            Tick = BinaryPrimitives.ReadInt32LittleEndian(frame[5..]),
            ViewTick = BinaryPrimitives.ReadInt32LittleEndian(frame[9..]),
            Entity = BinaryPrimitives.ReadInt32LittleEndian(frame[13..]),
            MoveX = BinaryPrimitives.ReadInt16LittleEndian(frame[17..]),
            MoveY = BinaryPrimitives.ReadInt16LittleEndian(frame[19..]),
            AimX = BinaryPrimitives.ReadInt16LittleEndian(frame[21..]),
            AimY = BinaryPrimitives.ReadInt16LittleEndian(frame[23..]),
            Buttons = (InputButtons)frame[25],
        };

    public static byte[] Ack(int tick)
    {
        var frame = new byte[MatchFrameTypes.AckLength];
        frame[0] = MatchFrameTypes.Ack;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(1), tick);
        return frame;
    }

    /// <summary>The tick in a frame of exactly <see cref="MatchFrameTypes.AckLength"/> bytes of type Ack; null otherwise.</summary>
    public static int? ReadAck(ReadOnlySpan<byte> frame) =>
        frame.Length != MatchFrameTypes.AckLength || frame[0] != MatchFrameTypes.Ack ? null : BinaryPrimitives.ReadInt32LittleEndian(frame[1..]);
}
