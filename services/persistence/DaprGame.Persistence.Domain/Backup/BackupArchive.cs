using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Domain.Views;

namespace DaprGame.Persistence.Domain.Backup;

/// <summary>
/// Encrypted, checksummed archives of a contiguous range of log records, optionally with one view snapshot.
/// <para>File layout: the plaintext <see cref="BackupHeader"/> (magic <c>DGBK</c>, version, archive id, key
/// fingerprint, nonce prefix, chunk size); then AES-256-GCM frames of fixed-size plaintext chunks (the last one
/// shorter, possibly empty), each with nonce = prefix ‖ chunk counter and associated data = header ‖ chunk index ‖
/// final flag, under a key derived from the master key and the archive id; then SHA-256 of every byte before it.</para>
/// <para>Plaintext inside the chunks: the opening manifest (length-prefixed JSON: created-at, reason, previous head,
/// snapshot length and watermark), the snapshot bytes, one section per record (tag 1, length, <see cref="RecordCodec"/>
/// bytes), and the closing manifest (tag 2, length, JSON: record count, last position, last hash).</para>
/// Writing and reading stream: one chunk and one record are held at a time, so archive size is bounded by the disk.
/// <para>Host use: <c>WriteAsync</c> to a file or blob stream with the records 1..P (or from..to after the previous
/// head) and, optionally, <see cref="SnapshotCodec.Encode"/> of the views; <c>VerifyAsync</c> on a schedule and
/// before a restore; restore with <see cref="BackupReader.OpenAsync"/> and <see cref="BackupReader.ReadBatchesAsync"/>
/// into an empty store, then <see cref="ViewSet.Restore"/> of the decoded snapshot and <see cref="ViewSet.CatchUp"/>
/// (or <see cref="ViewSet.Rebuild"/>). Every refusal is a <see cref="BackupException"/> with a
/// <see cref="BackupFailure"/>; <c>VerifyAsync</c> returns it instead of throwing.</para>
/// </summary>
public static class BackupArchive
{
    public const int FormatVersion = 1;

    public const int DefaultChunkSize = 64 * 1024;

    public const int MinChunkSize = 256;

    public const int MaxChunkSize = 16 * 1024 * 1024;

    internal const byte RecordTag = 1;

    internal const byte ClosingTag = 2;

    /// <inheritdoc cref="WriteAsync(Stream, BackupManifestInput, IAsyncEnumerable{LogRecord}, byte[], BackupKey, CancellationToken)"/>
    public static Task<BackupSummary> WriteAsync(
        Stream output, BackupManifestInput manifest, IEnumerable<LogRecord> records, byte[]? snapshot, BackupKey key,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        return WriteAsync(output, manifest, AsAsync(records, cancellationToken), snapshot, key, cancellationToken);
    }

    /// <summary>
    /// Writes <paramref name="records"/> (expected to start right after <see cref="BackupManifestInput.PreviousHead"/>)
    /// and the optional snapshot (<see cref="SnapshotCodec"/> bytes; decoded first, so a bad one is refused before
    /// anything is written). Records are archived as given; <see cref="BackupSummary.Chain"/> reports whether they chain.
    /// The snapshot's watermark should lie within the archived range (the verifier reports one beyond it). The output
    /// stream need not be seekable; on an exception it holds a partial file, which every reader refuses as truncated.
    /// </summary>
    /// <exception cref="SnapshotFormatException">The snapshot bytes do not decode.</exception>
    public static async Task<BackupSummary> WriteAsync(
        Stream output, BackupManifestInput manifest, IAsyncEnumerable<LogRecord> records, byte[]? snapshot, BackupKey key,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(manifest.PreviousHead);
        ArgumentNullException.ThrowIfNull(manifest.Reason);
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(key);
        if (manifest.ChunkSize < MinChunkSize || manifest.ChunkSize > MaxChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(manifest), $"chunk size must be within {MinChunkSize}..{MaxChunkSize}");
        }
        long? watermark = snapshot is null ? null : SnapshotCodec.Decode(snapshot).Watermark;

        var archiveId = RandomNumberGenerator.GetBytes(16);
        var header = new BackupHeader(FormatVersion, archiveId, key.FingerprintBytes, RandomNumberGenerator.GetBytes(4), manifest.ChunkSize);
        using var writer = new ChunkWriter(output, header, key.DeriveArchiveKey(archiveId));
        await writer.StartAsync(cancellationToken);

        var opening = new BackupReader.Opening(manifest.CreatedAt, manifest.Reason, manifest.PreviousHead, snapshot?.Length, watermark).ToJson();
        await writer.WriteAsync(LengthPrefix(opening.Length), cancellationToken);
        await writer.WriteAsync(opening, cancellationToken);
        if (snapshot is not null)
        {
            await writer.WriteAsync(snapshot, cancellationToken);
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        var prefix = new byte[5];
        var head = manifest.PreviousHead;
        var chain = ChainReport.Valid;
        var count = 0L;
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            ArgumentNullException.ThrowIfNull(record);
            buffer.ResetWrittenCount();
            RecordCodec.Write(record, buffer);
            prefix[0] = RecordTag;
            BinaryPrimitives.WriteInt32BigEndian(prefix.AsSpan(1), buffer.WrittenCount);
            await writer.WriteAsync(prefix, cancellationToken);
            await writer.WriteAsync(buffer.WrittenMemory, cancellationToken);
            if (chain.IsValid)
            {
                chain = ChainVerifier.Verify([record], head);
            }
            head = new LogHead(record.Position, record.Hash);
            count++;
        }

        var closing = Closing(count, head);
        await writer.WriteAsync(new[] { ClosingTag }, cancellationToken);
        await writer.WriteAsync(LengthPrefix(closing.Length), cancellationToken);
        await writer.WriteAsync(closing, cancellationToken);
        var sha = await writer.CompleteAsync(cancellationToken);
        return new BackupSummary(
            header.ArchiveIdHex, count, writer.BytesWritten, Convert.ToHexStringLower(sha), head.Position, head.Hash, watermark, chain);
    }

    /// <summary>Reads a whole archive into memory, checking everything <see cref="BackupReader"/> checks.</summary>
    /// <exception cref="BackupException">The first problem found.</exception>
    public static async Task<BackupContent> ReadAsync(Stream input, BackupKey key, CancellationToken cancellationToken = default)
    {
        using var reader = await BackupReader.OpenAsync(input, key, cancellationToken);
        var records = new List<LogRecord>();
        await foreach (var record in reader.ReadRecordsAsync(cancellationToken))
        {
            records.Add(record);
        }
        return new BackupContent(reader.Manifest, records, reader.Snapshot);
    }

    /// <summary>
    /// Reads the archive to its end without keeping it and reports the first problem: the header and key, every
    /// chunk's tag, the chunk sequence and final flag, the trailing checksum, the manifests against the records, the
    /// hash chain from the previous head, and the snapshot (it decodes, its own hash holds, its watermark is within the
    /// archive; with <see cref="BackupVerifyOptions.RebuildSnapshot"/>, it equals a rebuild of the archived records).
    /// Damage to the file is reported before problems of the content (<see cref="BackupFailure.ChainBroken"/>,
    /// <see cref="BackupFailure.SnapshotMismatch"/>), which are only meaningful in an intact file.
    /// </summary>
    public static async Task<BackupVerification> VerifyAsync(
        Stream input, BackupKey key, BackupVerifyOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new BackupVerifyOptions();
        BackupReader? reader = null;
        try
        {
            reader = await BackupReader.OpenCoreAsync(input, key, strictChain: false, cancellationToken);
            ViewSnapshot? snapshot = null;
            string? snapshotProblem = null;
            if (reader.Snapshot is not null)
            {
                try
                {
                    snapshot = SnapshotCodec.Decode(reader.Snapshot);
                    if (snapshot.Watermark != reader.SnapshotWatermark)
                    {
                        snapshotProblem = $"the manifest says watermark {reader.SnapshotWatermark}, the snapshot {snapshot.Watermark}";
                    }
                }
                catch (SnapshotFormatException e)
                {
                    snapshotProblem = $"the snapshot does not decode: {e.Message}";
                }
            }
            var rebuild = options.RebuildSnapshot && snapshot is not null && snapshotProblem is null && reader.PreviousHead.Position == 0;
            var kept = rebuild ? new List<LogRecord>() : null;
            await foreach (var record in reader.ReadRecordsAsync(cancellationToken))
            {
                if (kept is not null && record.Position <= snapshot!.Watermark)
                {
                    kept.Add(record);
                }
            }

            var manifest = reader.Manifest;
            if (reader.ChainProblem is { } chain)
            {
                return Result(reader, BackupFailure.ChainBroken, $"position {chain.FirstBadPosition}: {chain.Problem}", position: chain.FirstBadPosition);
            }
            if (snapshot is not null && snapshotProblem is null && snapshot.Watermark > manifest.LastPosition)
            {
                snapshotProblem = $"the snapshot's watermark {snapshot.Watermark} is beyond the last archived position {manifest.LastPosition}";
            }
            if (snapshotProblem is null && kept is not null)
            {
                var rebuilt = kept.Count == snapshot!.Watermark ? ViewSet.Rebuild(kept).ContentHash() : null;
                if (rebuilt != snapshot.Hash)
                {
                    snapshotProblem = $"the snapshot at {snapshot.Watermark} differs from a rebuild of the archived records";
                }
            }
            return snapshotProblem is not null
                ? Result(reader, BackupFailure.SnapshotMismatch, snapshotProblem, rebuilt: kept is not null)
                : Result(reader, BackupFailure.None, null, rebuilt: kept is not null);
        }
        catch (BackupException e)
        {
            return new BackupVerification(
                e.Failure, e.Message, e.Chunk, e.Offset, e.Position, reader?.RecordsRead ?? 0, reader?.ChunksRead ?? 0,
                reader?.BytesRead ?? e.Offset ?? 0, false, null);
        }
        finally
        {
            reader?.Dispose();
        }
    }

    private static BackupVerification Result(BackupReader reader, BackupFailure failure, string? detail, long? position = null, bool rebuilt = false) =>
        new(failure, detail, null, null, position, reader.RecordsRead, reader.ChunksRead, reader.BytesRead, rebuilt, reader.Manifest);

    private static byte[] LengthPrefix(int length)
    {
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(prefix, length);
        return prefix;
    }

    private static byte[] Closing(long count, LogHead last)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("recordCount", count);
            w.WriteNumber("lastPosition", last.Position);
            w.WriteString("lastHash", Convert.ToHexStringLower(last.Hash));
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static async IAsyncEnumerable<LogRecord> AsAsync(IEnumerable<LogRecord> records, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return record;
        }
        await Task.CompletedTask;
    }
}
