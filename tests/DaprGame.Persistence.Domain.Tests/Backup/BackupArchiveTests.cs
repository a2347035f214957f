using DaprGame.Persistence.Domain.Backup;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;
using static DaprGame.Persistence.Domain.Tests.Backup.BackupSamples;
using static DaprGame.Persistence.Domain.Tests.TestEvents;

namespace DaprGame.Persistence.Domain.Tests.Backup;

public sealed class BackupArchiveTests
{
    [Fact]
    public async Task A_round_trip_keeps_every_record_field_and_the_snapshot_restores_to_a_rebuilds_hash()
    {
        var log = SampleLog();
        var key = Key(1);
        var watermark = log.Records.Count - 5;
        var snapshot = Snapshot(log.Records.Take(watermark).ToList());

        var (bytes, summary) = await WriteAsync(log.Records, snapshot, key);
        var content = await ReadAsync(bytes, key);

        Assert.Equal(log.Records.Count, content.Records.Count);
        for (var i = 0; i < log.Records.Count; i++)
        {
            AssertSameRecord(log.Records[i], content.Records[i]);
        }
        Assert.Contains(content.Records, r => r.Kind == RecordKind.Rollback);
        Assert.Equal(snapshot, content.Snapshot);
        var restored = ViewSet.Restore(SnapshotCodec.Decode(content.Snapshot));
        Assert.Equal(ViewSet.Rebuild(log.Records.Take(watermark).ToList()).ContentHash(), restored.ContentHash());
        restored.CatchUp(content.Records);
        Assert.Equal(ViewSet.Rebuild(log.Records).ContentHash(), restored.ContentHash());

        var m = content.Manifest;
        Assert.Equal((1, "nightly", 1L, (long)log.Records.Count, log.Head.Position, (long?)watermark, key.Fingerprint, summary.ArchiveId),
            (m.FormatVersion, m.Reason, m.FromPosition, m.RecordCount, m.LastPosition, m.SnapshotWatermark, m.KeyFingerprint, m.ArchiveId));
        Assert.Equal(log.Head.Hash, m.LastHash);
        Assert.Equal(TimeSpan.FromHours(2), m.CreatedAt.Offset);
        Assert.Equal(0L, m.PreviousHead.Position);
        Assert.Equal(LogHead.Empty.Hash, m.PreviousHead.Hash);

        Assert.Equal((bytes.LongLength, log.Records.Count, log.Head.Position, true), (summary.BytesWritten, (int)summary.RecordCount, summary.LastPosition, summary.Chain.IsValid));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), summary.Sha256);
        Assert.Equal(log.Head.Hash, summary.LastHash);
    }

    [Fact]
    public async Task Restoring_means_rebuilding_the_views_from_the_restored_records_and_matches_the_original()
    {
        var log = SampleLog(rounds: 5);
        var original = ViewSet.Rebuild(log.Records);
        var key = Key(2);
        var (bytes, _) = await WriteAsync(log.Records, SnapshotCodec.Encode(original.Snapshot()), key, chunkSize: 512);

        var verification = await VerifyAsync(bytes, key, rebuild: true);
        var content = await ReadAsync(bytes, key);
        var restoredLog = content.Records;

        Assert.True(verification.IsValid, verification.Detail);
        Assert.True(verification.SnapshotRebuilt);
        Assert.Equal(ChainReport.Valid, ChainVerifier.Verify(restoredLog));
        Assert.Equal(original.ContentHash(), ViewSet.Rebuild(restoredLog).ContentHash());
        Assert.Equal(original.ContentHash(), ViewSet.Restore(SnapshotCodec.Decode(content.Snapshot)).ContentHash());
        Assert.True(verification.ChunkCount > 5);
        Assert.Equal(log.Records.Count, verification.RecordCount);
    }

    [Fact]
    public async Task A_streaming_restore_in_batches_yields_every_record_once_and_the_manifest_at_the_end()
    {
        var log = SampleLog(rounds: 4);
        var key = Key(15);
        var snapshot = Snapshot(log.Records);
        var (bytes, summary) = await WriteAsync(log.Records, snapshot, key, chunkSize: 300);

        using var reader = await BackupReader.OpenAsync(new MemoryStream(bytes), key, Ct);
        Assert.Equal((summary.ArchiveId, "nightly", (long?)log.Records.Count), (reader.ArchiveId, reader.Reason, reader.SnapshotWatermark));
        Assert.Equal(snapshot, reader.Snapshot);
        Assert.Throws<InvalidOperationException>(() => reader.Manifest);

        var store = new List<LogRecord>();
        var sizes = new List<int>();
        await foreach (var batch in reader.ReadBatchesAsync(7, Ct))
        {
            sizes.Add(batch.Count);
            store.AddRange(batch);
        }

        Assert.All(sizes[..^1], size => Assert.Equal(7, size));
        Assert.Equal(log.Records.Count, store.Count);
        Assert.Equal(log.Records.Count, reader.Manifest.RecordCount);
        Assert.Equal(ViewSet.Rebuild(log.Records).ContentHash(), ViewSet.Rebuild(store).ContentHash());
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var record in reader.ReadRecordsAsync(Ct))
            {
                Assert.Fail($"read {record.Position} twice");
            }
        });
    }

    [Fact]
    public async Task A_damaged_final_chunk_fails_a_batched_restore_before_its_last_batch()
    {
        var log = SampleLog(rounds: 2);
        var key = Key(16);
        var (bytes, _) = await WriteAsync(log.Records, null, key, chunkSize: 256);
        bytes[^40] ^= 0x01;                                                     // inside the final chunk's tag

        using var reader = await BackupReader.OpenAsync(new MemoryStream(bytes), key, Ct);
        var written = 0;
        var thrown = await Assert.ThrowsAsync<BackupException>(async () =>
        {
            await foreach (var batch in reader.ReadBatchesAsync(5, Ct))
            {
                written += batch.Count;
            }
        });

        Assert.Equal(BackupFailure.Tampered, thrown.Failure);
        Assert.True(written < log.Records.Count);
    }

    [Fact]
    public async Task An_archive_without_records_or_snapshot_round_trips()
    {
        var key = Key(3);
        var (bytes, summary) = await WriteAsync([], null, key);

        var content = await ReadAsync(bytes, key);
        var verification = await VerifyAsync(bytes, key, rebuild: true);

        Assert.Empty(content.Records);
        Assert.Null(content.Snapshot);
        Assert.Equal((0L, 0L, (long?)null), (content.Manifest.RecordCount, content.Manifest.LastPosition, content.Manifest.SnapshotWatermark));
        Assert.True(verification.IsValid, verification.Detail);
        Assert.False(verification.SnapshotRebuilt);
        Assert.Equal(0, summary.RecordCount);
    }

    [Fact]
    public async Task A_later_range_verifies_from_its_previous_head_and_not_from_another()
    {
        var log = SampleLog(rounds: 4);
        var key = Key(4);
        var from = 11;
        var previous = new LogHead(from - 1, log.Records[from - 2].Hash);
        var range = log.Records.Skip(from - 1).ToList();
        var (bytes, summary) = await WriteAsync(range, null, key, previous, chunkSize: 256);

        var verification = await VerifyAsync(bytes, key, rebuild: true);
        var content = await ReadAsync(bytes, key);

        Assert.True(verification.IsValid, verification.Detail);
        Assert.True(summary.Chain.IsValid);
        Assert.Equal(((long)from, log.Head.Position, range.Count), (content.Manifest.FromPosition, content.Manifest.LastPosition, content.Records.Count));
        Assert.Equal(previous.Hash, content.PreviousHead.Hash);
        Assert.Equal(ChainReport.Valid, ChainVerifier.Verify(content.Records, content.PreviousHead));
        for (var i = 0; i < range.Count; i++)
        {
            AssertSameRecord(range[i], content.Records[i]);
        }

        // The same records claimed to follow another head: the chain breaks at the first of them.
        var (wrongHead, wrongSummary) = await WriteAsync(range, null, key, new LogHead(from - 1, log.Records[0].Hash), chunkSize: 256);
        var broken = await VerifyAsync(wrongHead, key);
        Assert.Equal((BackupFailure.ChainBroken, (long?)from), (broken.Failure, broken.FirstBadPosition));
        Assert.Equal(from, wrongSummary.Chain.FirstBadPosition);

        // A range starting at the wrong position.
        var (gap, _) = await WriteAsync(range.Skip(1), null, key, previous, chunkSize: 256);
        Assert.Equal((BackupFailure.ChainBroken, (long?)from), ((await VerifyAsync(gap, key)).Failure, (await VerifyAsync(gap, key)).FirstBadPosition));
    }

    [Fact]
    public async Task A_record_edited_before_archiving_is_reported_as_chain_broken_at_its_position()
    {
        var log = SampleLog();
        var key = Key(5);
        foreach (var index in new[] { 0, 7, log.Records.Count - 1 })
        {
            var records = log.Records.ToList();
            var data = records[index].Data.ToArray();
            data[^2] ^= 0x04;
            records[index] = records[index] with { Data = data };

            var (bytes, summary) = await WriteAsync(records, null, key, chunkSize: 256);
            var verification = await VerifyAsync(bytes, key);
            var thrown = await Assert.ThrowsAsync<BackupException>(() => ReadAsync(bytes, key));

            Assert.Equal((BackupFailure.ChainBroken, (long?)(index + 1)), (verification.Failure, verification.FirstBadPosition));
            Assert.Equal(records.Count, verification.RecordCount);                 // the file itself was read to its end
            Assert.Equal((BackupFailure.ChainBroken, (long?)(index + 1)), (thrown.Failure, thrown.Position));
            Assert.Equal(index + 1, summary.Chain.FirstBadPosition);
        }
    }

    [Fact]
    public async Task A_wrong_key_is_reported_as_wrong_key_not_as_tampering()
    {
        var log = SampleLog();
        var (bytes, _) = await WriteAsync(log.Records, Snapshot(log.Records), Key(6));

        var verification = await VerifyAsync(bytes, Key(7));
        var thrown = await Assert.ThrowsAsync<BackupException>(() => ReadAsync(bytes, Key(7)));

        Assert.Equal(BackupFailure.WrongKey, verification.Failure);
        Assert.Equal(BackupFailure.WrongKey, thrown.Failure);
        Assert.Contains(Key(6).Fingerprint, verification.Detail, StringComparison.Ordinal);
        Assert.True((await VerifyAsync(bytes, Key(6))).IsValid);
    }

    [Fact]
    public async Task Keys_parse_from_hex_and_only_their_fingerprint_is_ever_shown()
    {
        var hex = Convert.ToHexStringLower(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var key = BackupKey.FromHex($"  {hex.ToUpperInvariant()}\n");

        Assert.Equal(BackupKey.FromHex(hex).Fingerprint, key.Fingerprint);
        Assert.Equal(16, key.Fingerprint.Length);
        Assert.NotEqual(Key(1).Fingerprint, Key(2).Fingerprint);
        Assert.DoesNotContain(hex[..16], key.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Throws<FormatException>(() => BackupKey.FromHex(hex[..62]));
        Assert.Throws<FormatException>(() => BackupKey.FromHex(hex[..62] + "zz"));
        Assert.Throws<ArgumentException>(() => BackupKey.FromBytes(new byte[16]));

        var (bytes, _) = await WriteAsync([], null, key);
        Assert.DoesNotContain(Convert.ToHexString(bytes), Convert.ToHexString(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_version_or_another_file_is_refused_with_its_reason()
    {
        var key = Key(8);
        var (bytes, _) = await WriteAsync(SampleLog().Records, null, key);

        var v2 = bytes.ToArray();
        v2[5] = 2;
        var notAnArchive = "PK\x03\x04 not a backup at all, but long enough for a header"u8.ToArray();

        Assert.Equal(BackupFailure.UnsupportedVersion, (await VerifyAsync(v2, key)).Failure);
        Assert.Equal(BackupFailure.NotAnArchive, (await VerifyAsync(notAnArchive, key)).Failure);
        Assert.Equal(BackupFailure.Truncated, (await VerifyAsync([], key)).Failure);
    }

    [Fact]
    public async Task A_snapshot_that_is_not_the_archived_records_views_is_reported_when_rebuilding()
    {
        var log = SampleLog();
        var key = Key(9);
        var otherLog = new EventLog();
        otherLog.Append([.. Enumerable.Range(1, 5).Select(i => WalletChanged("zed", i, "currency:GOLD", i))]);
        var other = Snapshot(otherLog.Records);                                 // valid, but of another history at 5
        var (bytes, _) = await WriteAsync(log.Records, other, key);

        Assert.True((await VerifyAsync(bytes, key)).IsValid);                    // decodes and holds its own hash
        var rebuilt = await VerifyAsync(bytes, key, rebuild: true);
        Assert.Equal(BackupFailure.SnapshotMismatch, rebuilt.Failure);
        Assert.True(rebuilt.SnapshotRebuilt);

        var beyond = Snapshot(log.Records);
        var (shortArchive, _) = await WriteAsync(log.Records.Take(10), beyond, key);
        Assert.Equal(BackupFailure.SnapshotMismatch, (await VerifyAsync(shortArchive, key)).Failure);

        await Assert.ThrowsAsync<SnapshotFormatException>(() => WriteAsync(log.Records, "{}"u8.ToArray(), key));
    }
}
