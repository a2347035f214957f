using System.Buffers.Binary;
using System.Text;
using DaprGame.Persistence.Domain.Backup;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Backup;

internal static class BackupSamples
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static BackupKey Key(int seed)
    {
        var bytes = new byte[BackupKey.Length];
        new Random(seed).NextBytes(bytes);
        return BackupKey.FromBytes(bytes);
    }

    /// <summary>Every view's events, a rollback, malformed and unknown events, and times with non-zero offsets.</summary>
    public static EventLog SampleLog(int rounds = 3)
    {
        var log = new EventLog();
        for (var r = 0; r < rounds; r++)
        {
            var s = r * 10;
            log.Append([
                WalletChanged("alice", s + 1, "currency:GOLD", 100 + r), WalletChanged("bob", s + 1, "item:ore", 3 + r, 1),
                ChatPosted("lobby", s + 1, "alice", $"hi ✓ round {r}"), ChatEdited("lobby", s + 2, s + 1, "hello"),
                ChatPosted("lobby", s + 3, "bob", new string('x', 300)), ChatDeleted("lobby", s + 4, s + 3),
                Fill("ore-GOLD", s + 1, "alice", "bob", 10 + r, 2, T0.AddSeconds(s).ToOffset(TimeSpan.FromHours(-7))),
                Fill("ore-GOLD", s + 2, "bob", "carol", 12, 1, T0.AddSeconds(s + 75)),
                MatchEnded($"m-{r}", 1, "alice", "bob"), Unknown("weather/1", s + 1),
                ChatPosted("lobby", s + 5, "eve", "x") with { Data = "{\"channelId\":\"lobby\"}"u8.ToArray() },
            ]);
            if (r == 1)
            {
                log.Rollback(new RollbackMarker(log.Head.Position - 4, "ops", "bad fills", T0.AddHours(1)));
            }
        }
        return log;
    }

    public static byte[] Snapshot(IReadOnlyList<LogRecord> records) => SnapshotCodec.Encode(ViewSet.Rebuild(records).Snapshot());

    public static async Task<(byte[] Bytes, BackupSummary Summary)> WriteAsync(
        IEnumerable<LogRecord> records, byte[]? snapshot, BackupKey key, LogHead? previous = null, int chunkSize = BackupArchive.DefaultChunkSize)
    {
        using var output = new MemoryStream();
        var input = new BackupManifestInput(previous ?? LogHead.Empty, T0.ToOffset(TimeSpan.FromHours(2)), "nightly") { ChunkSize = chunkSize };
        var summary = await BackupArchive.WriteAsync(output, input, records, snapshot, key, Ct);
        return (output.ToArray(), summary);
    }

    public static Task<BackupVerification> VerifyAsync(byte[] archive, BackupKey key, bool rebuild = false) =>
        BackupArchive.VerifyAsync(new MemoryStream(archive, writable: false), key, new BackupVerifyOptions(rebuild), Ct);

    public static Task<BackupContent> ReadAsync(byte[] archive, BackupKey key) =>
        BackupArchive.ReadAsync(new MemoryStream(archive, writable: false), key, Ct);

    /// <summary>File offsets where each chunk frame starts, and where the trailer starts (last).</summary>
    public static List<long> FrameOffsets(byte[] archive, int chunkSize)
    {
        var offsets = new List<long>();
        var at = 38;
        while (true)
        {
            offsets.Add(at);
            var length = BinaryPrimitives.ReadInt32BigEndian(archive.AsSpan(at));
            at += 4 + length + 16;
            if (length < chunkSize)
            {
                offsets.Add(at);
                return offsets;
            }
        }
    }

    public static void AssertSameRecord(LogRecord expected, LogRecord actual)
    {
        Assert.Equal(
            (expected.Position, expected.Kind, expected.StreamId, expected.StreamVersion, expected.Sequence, expected.Flags, expected.EventId, expected.Type),
            (actual.Position, actual.Kind, actual.StreamId, actual.StreamVersion, actual.Sequence, actual.Flags, actual.EventId, actual.Type));
        Assert.Equal(expected.OccurredAt, actual.OccurredAt);
        Assert.Equal(expected.OccurredAt.Offset, actual.OccurredAt.Offset);
        Assert.Equal(expected.OccurredAt.Ticks, actual.OccurredAt.Ticks);
        Assert.Equal(expected.Data, actual.Data);
        Assert.Equal(expected.PreviousHash, actual.PreviousHash);
        Assert.Equal(expected.Hash, actual.Hash);
    }

    /// <summary>
    /// A chained log generated on the fly (never held whole): chat posts with seeded text of 40..400 characters, times
    /// with offsets, so a big archive can be written and read without the test keeping it in memory either.
    /// </summary>
    public static IEnumerable<LogRecord> Generated(int count, int seed)
    {
        var random = new Random(seed);
        var previous = RecordHash.Genesis.ToArray();
        var text = new StringBuilder();
        for (var position = 1L; position <= count; position++)
        {
            text.Clear();
            var length = random.Next(40, 400);
            for (var i = 0; i < length; i++)
            {
                text.Append((char)('a' + random.Next(26)));
            }
            var channel = $"room-{position % 50}";
            var offset = position / 50 + 1;
            var data = Encoding.UTF8.GetBytes(
                $"{{\"channelId\":\"{channel}\",\"offset\":{offset},\"senderId\":\"p-{random.Next(1000)}\",\"text\":\"{text}\"}}");
            var at = T0.AddSeconds(position).ToOffset(TimeSpan.FromHours(position % 5));
            var streamId = $"chat/{channel}";
            var hash = RecordHash.Compute(
                position, RecordKind.Event, streamId, offset, offset, RecordFlags.None, $"{streamId}:{offset}", ChatHistoryView.Posted, at, data, previous);
            yield return new LogRecord(
                position, RecordKind.Event, streamId, offset, offset, RecordFlags.None, $"{streamId}:{offset}", ChatHistoryView.Posted, at, data, previous, hash);
            previous = hash;
        }
    }
}
