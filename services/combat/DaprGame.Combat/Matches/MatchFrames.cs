using System.Buffers.Binary;
using System.Text.Json;
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
