using System.Diagnostics;
using DaprGame.Persistence.Domain.Backup;
using DaprGame.Persistence.Domain.Log;
using static DaprGame.Persistence.Domain.Tests.Backup.BackupSamples;

namespace DaprGame.Persistence.Domain.Tests.Backup;

/// <summary>Runs alone, so the live-heap measurements are not disturbed by other tests' allocations.</summary>
[CollectionDefinition(nameof(LargeArchiveCollection), DisableParallelization = true)]
public sealed class LargeArchiveCollection;

[Collection(nameof(LargeArchiveCollection))]
public sealed class BackupLargeArchiveTests(ITestOutputHelper output)
{
    private const int Count = 50_000;

    [Fact]
    public async Task Fifty_thousand_records_stream_through_write_verify_and_read_without_being_held_in_memory()
    {
        var key = Key(20);
        var path = Path.Combine(Path.GetTempPath(), $"dgbk-test-{Guid.NewGuid():N}.bin");
        try
        {
            var baseline = GC.GetTotalMemory(forceFullCollection: true);
            var writeMiddle = 0L;
            IEnumerable<LogRecord> Measured()
            {
                foreach (var record in Generated(Count, seed: 7))
                {
                    if (record.Position == Count / 2)
                    {
                        writeMiddle = GC.GetTotalMemory(forceFullCollection: true);
                    }
                    yield return record;
                }
            }

            var watch = Stopwatch.StartNew();
            BackupSummary summary;
            await using (var file = File.Create(path))
            {
                summary = await BackupArchive.WriteAsync(file, new BackupManifestInput(LogHead.Empty, TestEvents.T0, "large"), Measured(), null, key, Ct);
            }
            var writeMs = watch.ElapsedMilliseconds;
            var length = new FileInfo(path).Length;

            watch.Restart();
            BackupVerification verification;
            await using (var file = File.OpenRead(path))
            {
                verification = await BackupArchive.VerifyAsync(file, key, null, Ct);
            }
            var verifyMs = watch.ElapsedMilliseconds;

            watch.Restart();
            var readMiddle = 0L;
            await using (var file = File.OpenRead(path))
            using (var reader = await BackupReader.OpenAsync(file, key, Ct))
            using (var expected = Generated(Count, seed: 7).GetEnumerator())
            {
                await foreach (var record in reader.ReadRecordsAsync(Ct))
                {
                    Assert.True(expected.MoveNext());
                    AssertSameRecord(expected.Current, record);
                    if (record.Position == Count / 2)
                    {
                        readMiddle = GC.GetTotalMemory(forceFullCollection: true);
                    }
                }
                Assert.False(expected.MoveNext());
                Assert.Equal((Count, (long)Count), (reader.Manifest.RecordCount, reader.Manifest.LastPosition));
            }
            var readMs = watch.ElapsedMilliseconds;

            output.WriteLine(
                $"{Count:N0} records, {length / 1024.0 / 1024.0:F1} MiB, {verification.ChunkCount} chunks: write {writeMs} ms, verify {verifyMs} ms, " +
                $"read and compare {readMs} ms; live heap over baseline mid-write {(writeMiddle - baseline) / 1024} KiB, mid-read {(readMiddle - baseline) / 1024} KiB");
            Assert.True(verification.IsValid, verification.Detail);
            Assert.Equal((Count, length, true), (summary.RecordCount, summary.BytesWritten, summary.Chain.IsValid));
            Assert.Equal(Count, verification.RecordCount);
            Assert.True(length > 10 * 1024 * 1024, $"the archive is only {length} bytes");
            // Streaming: half-way through, the live heap holds a chunk and a record, nowhere near the archive's size.
            Assert.True(writeMiddle - baseline < length / 10, $"mid-write the heap grew by {writeMiddle - baseline} bytes");
            Assert.True(readMiddle - baseline < length / 10, $"mid-read the heap grew by {readMiddle - baseline} bytes");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
