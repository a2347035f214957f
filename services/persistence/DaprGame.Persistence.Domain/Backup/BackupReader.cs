using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Backup;

/// <summary>
/// Reads an archive front to back, holding one chunk and one record at a time: <c>OpenAsync</c> checks the
/// header and key and reads the opening manifest and the snapshot; <see cref="ReadRecordsAsync"/> yields the records
/// in order, each from a chunk whose tag checked and chained to the one before (<see cref="ChainVerifier"/>). The
/// archive as a whole — the final chunk, the closing manifest, the trailing checksum — is proven only when the
/// enumeration ends without a <see cref="BackupException"/>; a host restoring into an empty store in batches must
/// treat the restore as unfinished until then (or run <see cref="BackupArchive.VerifyAsync"/> first). The input stream
/// stays the caller's (it is read forward only, never disposed here).
/// </summary>
public sealed class BackupReader : IDisposable
{
    internal const int MaxManifestLength = 1024 * 1024;

    private readonly ChunkReader _chunks;
    private readonly BackupHeader _header;
    private readonly string _keyFingerprint;
    private readonly bool _strictChain;
    private LogHead _head;
    private BackupManifest? _manifest;
    private bool _started;

    private BackupReader(ChunkReader chunks, BackupHeader header, string keyFingerprint, bool strictChain, Opening opening, byte[]? snapshot)
    {
        _chunks = chunks;
        _header = header;
        _keyFingerprint = keyFingerprint;
        _strictChain = strictChain;
        CreatedAt = opening.CreatedAt;
        Reason = opening.Reason;
        PreviousHead = opening.PreviousHead;
        SnapshotWatermark = opening.SnapshotWatermark;
        Snapshot = snapshot;
        _head = opening.PreviousHead;
    }

    public string ArchiveId => _header.ArchiveIdHex;

    public DateTimeOffset CreatedAt { get; }

    public string Reason { get; }

    /// <summary>The head just before the first archived record: the chain is verified from it.</summary>
    public LogHead PreviousHead { get; }

    public long? SnapshotWatermark { get; }

    /// <summary>The archived snapshot as <see cref="Views.SnapshotCodec"/> bytes, or null.</summary>
    public byte[]? Snapshot { get; }

    public long RecordsRead { get; private set; }

    public long ChunksRead => _chunks.Chunks;

    public long BytesRead => _chunks.Offset;

    /// <summary>The complete manifest; available once <see cref="ReadRecordsAsync"/> has run to its end.</summary>
    public BackupManifest Manifest => _manifest ?? throw new InvalidOperationException("the manifest is complete only after every record was read");

    /// <summary>When reading without a strict chain (verification), the first chain problem seen.</summary>
    internal ChainReport? ChainProblem { get; private set; }

    /// <exception cref="BackupException">The header, key, opening manifest or snapshot section is wrong.</exception>
    public static Task<BackupReader> OpenAsync(Stream input, BackupKey key, CancellationToken cancellationToken = default) =>
        OpenCoreAsync(input, key, strictChain: true, cancellationToken);

    internal static async Task<BackupReader> OpenCoreAsync(Stream input, BackupKey key, bool strictChain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(key);
        var bytes = new byte[BackupHeader.Length];
        var read = await input.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, cancellationToken);
        if (read >= 4 && !BackupHeader.HasMagic(bytes))
        {
            throw new BackupException(BackupFailure.NotAnArchive, "the file does not start with DGBK", offset: 0);
        }
        if (read < bytes.Length)
        {
            throw new BackupException(BackupFailure.Truncated, $"the file ends inside the header at offset {read}", offset: read);
        }
        var version = BackupHeader.ReadVersion(bytes);
        if (version != BackupArchive.FormatVersion)
        {
            throw new BackupException(BackupFailure.UnsupportedVersion, $"format version {version}; this reader knows {BackupArchive.FormatVersion}", offset: 4);
        }
        var header = BackupHeader.Parse(bytes);
        if (!header.Fingerprint.AsSpan().SequenceEqual(key.FingerprintBytes))
        {
            // Either another key or a damaged fingerprint: the trailing checksum tells which.
            var intact = await ChecksumMatchesAsync(input, bytes, cancellationToken);
            throw intact
                ? new BackupException(BackupFailure.WrongKey, $"written with key {Convert.ToHexStringLower(header.Fingerprint)}, not {key.Fingerprint}", offset: 22)
                : new BackupException(BackupFailure.Tampered, "the header's key fingerprint is damaged (the checksum fails)", offset: 22);
        }
        if (header.ChunkSize < BackupArchive.MinChunkSize || header.ChunkSize > BackupArchive.MaxChunkSize)
        {
            throw new BackupException(BackupFailure.Tampered, $"chunk size {header.ChunkSize} is out of range", offset: 34);
        }

        var checksum = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        checksum.AppendData(bytes);
        var chunks = new ChunkReader(input, header, key.DeriveArchiveKey(header.ArchiveId), checksum);
        try
        {
            var openingBytes = await ReadSectionAsync(chunks, MaxManifestLength, "the opening manifest", cancellationToken);
            var opening = Opening.Parse(openingBytes);
            byte[]? snapshot = null;
            if (opening.SnapshotLength is { } length)
            {
                snapshot = new byte[length];
                await ReadPlainAsync(chunks, snapshot, "the snapshot", cancellationToken);
            }
            return new BackupReader(chunks, header, key.Fingerprint, strictChain, opening, snapshot);
        }
        catch
        {
            chunks.Dispose();
            throw;
        }
    }

    /// <summary>The archived records in position order. Throws <see cref="BackupException"/> at the first problem.</summary>
    public async IAsyncEnumerable<LogRecord> ReadRecordsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("the records of an archive can be read once");
        }
        _started = true;
        var tag = new byte[1];
        var buffer = new byte[4096];
        while (true)
        {
            await ReadPlainAsync(_chunks, tag, "the closing manifest", cancellationToken);
            if (tag[0] == BackupArchive.ClosingTag)
            {
                Close(await ReadSectionAsync(_chunks, MaxManifestLength, "the closing manifest", cancellationToken));
                if (!await _chunks.AtEndAsync(cancellationToken))
                {
                    throw Malformed("data follows the closing manifest");
                }
                yield break;
            }
            if (tag[0] != BackupArchive.RecordTag)
            {
                throw Malformed($"unknown section tag {tag[0]}");
            }
            var length = await ReadLengthAsync(_chunks, RecordCodec.MaxRecordLength, "a record", cancellationToken);
            if (buffer.Length < length)
            {
                buffer = new byte[Math.Max(length, buffer.Length * 2)];
            }
            await ReadPlainAsync(_chunks, buffer.AsMemory(0, length), "a record", cancellationToken);
            LogRecord record;
            try
            {
                record = RecordCodec.Read(buffer.AsSpan(0, length));
            }
            catch (FormatException e)
            {
                throw Malformed($"record {RecordsRead + 1} of the archive does not decode: {e.Message}");
            }
            CheckChain(record);
            RecordsRead++;
            yield return record;
        }
    }

    /// <summary>
    /// The records in batches of up to <paramref name="batchSize"/>, for a host writing them into an empty store one
    /// state transaction per batch. The last batch is yielded only after the whole archive checked out, so a damaged
    /// file fails before its final batch is written.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<LogRecord>> ReadBatchesAsync(int batchSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batch = new List<LogRecord>(batchSize);
        await foreach (var record in ReadRecordsAsync(cancellationToken))
        {
            if (batch.Count == batchSize)
            {
                yield return batch;
                batch = new List<LogRecord>(batchSize);
            }
            batch.Add(record);
        }
        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    public void Dispose() => _chunks.Dispose();

    private void CheckChain(LogRecord record)
    {
        var report = ChainVerifier.Verify([record], _head);
        if (!report.IsValid)
        {
            if (_strictChain)
            {
                throw new BackupException(BackupFailure.ChainBroken, $"position {report.FirstBadPosition}: {report.Problem}", position: report.FirstBadPosition);
            }
            ChainProblem ??= report;
        }
        _head = new LogHead(record.Position, record.Hash);
    }

    private void Close(byte[] closing)
    {
        long count, lastPosition;
        byte[] lastHash;
        try
        {
            using var document = JsonDocument.Parse(closing);
            var root = document.RootElement;
            count = root.GetProperty("recordCount").GetInt64();
            lastPosition = root.GetProperty("lastPosition").GetInt64();
            lastHash = Convert.FromHexString(root.GetProperty("lastHash").GetString()!);
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw Malformed($"the closing manifest does not parse: {e.Message}");
        }
        if (count != RecordsRead || lastPosition != _head.Position || !lastHash.AsSpan().SequenceEqual(_head.Hash))
        {
            throw Malformed($"the closing manifest ({count} records to {lastPosition}) disagrees with the records read ({RecordsRead} to {_head.Position})");
        }
        _manifest = new BackupManifest(
            BackupArchive.FormatVersion, ArchiveId, _keyFingerprint, CreatedAt, Reason, PreviousHead, count, lastPosition, lastHash, SnapshotWatermark);
    }

    /// <summary>Authenticated plaintext that is not what the writer writes: only a writer bug or a leaked key explains it.</summary>
    private BackupException Malformed(string message) =>
        new(BackupFailure.Tampered, $"{message} (inside authenticated chunks)", _chunks.Chunks, _chunks.Offset);

    private static async Task ReadPlainAsync(ChunkReader chunks, Memory<byte> buffer, string what, CancellationToken cancellationToken)
    {
        if (!await chunks.ReadExactlyAsync(buffer, cancellationToken))
        {
            throw new BackupException(BackupFailure.Tampered, $"the plaintext ends before {what}", chunks.Chunks, chunks.Offset);
        }
    }

    private static async Task<int> ReadLengthAsync(ChunkReader chunks, int max, string what, CancellationToken cancellationToken)
    {
        var prefix = new byte[4];
        await ReadPlainAsync(chunks, prefix, what, cancellationToken);
        var length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        return length >= 0 && length <= max
            ? length
            : throw new BackupException(BackupFailure.Tampered, $"{what} claims {length} bytes", chunks.Chunks, chunks.Offset);
    }

    private static async Task<byte[]> ReadSectionAsync(ChunkReader chunks, int max, string what, CancellationToken cancellationToken)
    {
        var bytes = new byte[await ReadLengthAsync(chunks, max, what, cancellationToken)];
        await ReadPlainAsync(chunks, bytes, what, cancellationToken);
        return bytes;
    }

    /// <summary>Reads the rest of the file and compares its trailing 32 bytes with the checksum of everything before them.</summary>
    private static async Task<bool> ChecksumMatchesAsync(Stream input, byte[] header, CancellationToken cancellationToken)
    {
        using var checksum = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        checksum.AppendData(header);
        const int Tail = 32;
        var buffer = new byte[Tail + 64 * 1024];
        var held = 0;
        int read;
        while ((read = await input.ReadAsync(buffer.AsMemory(held), cancellationToken)) > 0)
        {
            held += read;
            if (held > Tail)
            {
                checksum.AppendData(buffer, 0, held - Tail);
                buffer.AsSpan(held - Tail, Tail).CopyTo(buffer);
                held = Tail;
            }
        }
        return held == Tail && CryptographicOperations.FixedTimeEquals(buffer.AsSpan(0, Tail), checksum.GetHashAndReset());
    }

    /// <summary>The opening manifest: what the writer knew before the records.</summary>
    internal sealed record Opening(DateTimeOffset CreatedAt, string Reason, LogHead PreviousHead, int? SnapshotLength, long? SnapshotWatermark)
    {
        public byte[] ToJson()
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("createdAt", CreatedAt);
                w.WriteString("reason", Reason);
                w.WriteNumber("previousPosition", PreviousHead.Position);
                w.WriteString("previousHash", Convert.ToHexStringLower(PreviousHead.Hash));
                if (SnapshotLength is { } length && SnapshotWatermark is { } watermark)
                {
                    w.WriteNumber("snapshotLength", length);
                    w.WriteNumber("snapshotWatermark", watermark);
                }
                w.WriteEndObject();
            }
            return buffer.ToArray();
        }

        public static Opening Parse(byte[] json)
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                var root = document.RootElement;
                var hasSnapshot = root.TryGetProperty("snapshotLength", out var length);
                if (hasSnapshot && length.GetInt32() < 0)
                {
                    throw new FormatException("negative snapshot length");
                }
                return new Opening(
                    root.GetProperty("createdAt").GetDateTimeOffset(),
                    root.GetProperty("reason").GetString()!,
                    new LogHead(root.GetProperty("previousPosition").GetInt64(), Convert.FromHexString(root.GetProperty("previousHash").GetString()!)),
                    hasSnapshot ? length.GetInt32() : null,
                    hasSnapshot ? root.GetProperty("snapshotWatermark").GetInt64() : null);
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                throw new BackupException(BackupFailure.Tampered, $"the opening manifest does not parse: {e.Message} (inside authenticated chunks)");
            }
        }
    }
}
