using System.Buffers.Binary;
using System.Security.Cryptography;

namespace DaprGame.Persistence.Domain.Backup;

/// <summary>
/// Reads the frames <see cref="ChunkWriter"/> wrote and hands out their plaintext, one chunk held at a time. A chunk's
/// bytes are released only after its tag checked; the trailing checksum is checked as soon as the final chunk is read,
/// before any of its plaintext is handed out, and then the file must end.
/// </summary>
internal sealed class ChunkReader : IDisposable
{
    private readonly Stream _input;
    private readonly BackupHeader _header;
    private readonly AesGcm _aes;
    private readonly IncrementalHash _checksum;
    private readonly byte[] _frame;
    private readonly byte[] _plain;
    private int _start;
    private int _end;
    private bool _final;

    /// <param name="checksum">Already fed the header bytes; owned (and disposed) by the reader from here on.</param>
    public ChunkReader(Stream input, BackupHeader header, byte[] chunkKey, IncrementalHash checksum)
    {
        _input = input;
        _header = header;
        _aes = new AesGcm(chunkKey, ChunkWriter.TagLength);
        _checksum = checksum;
        _frame = new byte[header.ChunkSize + ChunkWriter.TagLength];
        _plain = new byte[header.ChunkSize];
        Offset = BackupHeader.Length;
    }

    /// <summary>File bytes consumed so far.</summary>
    public long Offset { get; private set; }

    public long Chunks { get; private set; }

    /// <summary>Fills <paramref name="buffer"/>; false if the plaintext ended first (the archive is then complete and checked).</summary>
    public async ValueTask<bool> ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            if (_start == _end)
            {
                if (_final)
                {
                    return false;
                }
                await NextChunkAsync(cancellationToken);
                continue;
            }
            var take = Math.Min(buffer.Length, _end - _start);
            _plain.AsMemory(_start, take).CopyTo(buffer);
            _start += take;
            buffer = buffer[take..];
        }
        return true;
    }

    /// <summary>True when every plaintext byte has been read (which implies the final chunk and checksum were checked).</summary>
    public async ValueTask<bool> AtEndAsync(CancellationToken cancellationToken)
    {
        while (_start == _end && !_final)
        {
            await NextChunkAsync(cancellationToken);
        }
        return _start == _end;
    }

    public void Dispose()
    {
        _aes.Dispose();
        _checksum.Dispose();
    }

    private async Task NextChunkAsync(CancellationToken cancellationToken)
    {
        var frameOffset = Offset;
        var chunk = Chunks;
        await FillAsync(_frame.AsMemory(0, 4), "a chunk's length", cancellationToken);
        var length = BinaryPrimitives.ReadInt32BigEndian(_frame);
        if (length < 0 || length > _header.ChunkSize)
        {
            throw new BackupException(BackupFailure.Tampered, $"chunk {chunk} claims {length} bytes", chunk, frameOffset);
        }
        _checksum.AppendData(_frame.AsSpan(0, 4));
        var final = length < _header.ChunkSize;
        await FillAsync(_frame.AsMemory(0, length + ChunkWriter.TagLength), $"chunk {chunk}", cancellationToken);
        _checksum.AppendData(_frame.AsSpan(0, length + ChunkWriter.TagLength));

        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[BackupHeader.AssociatedDataLength];
        _header.Nonce(chunk, nonce);
        _header.AssociatedData(chunk, final, aad);
        try
        {
            _aes.Decrypt(nonce, _frame.AsSpan(0, length), _frame.AsSpan(length, ChunkWriter.TagLength), _plain.AsSpan(0, length), aad);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new BackupException(BackupFailure.Tampered, $"chunk {chunk} at offset {frameOffset} fails its tag", chunk, frameOffset, inner: e);
        }
        Chunks++;

        if (final)
        {
            await CheckTrailerAsync(cancellationToken);
        }
        _start = 0;
        _end = length;
        _final = final;
    }

    private async Task CheckTrailerAsync(CancellationToken cancellationToken)
    {
        var trailerOffset = Offset;
        var expected = _checksum.GetHashAndReset();
        var trailer = new byte[expected.Length];
        await FillAsync(trailer, "the checksum", cancellationToken);
        if (!CryptographicOperations.FixedTimeEquals(trailer, expected))
        {
            throw new BackupException(BackupFailure.Tampered, "the trailing checksum does not match", null, trailerOffset);
        }
        var extra = new byte[1];
        if (await _input.ReadAsync(extra, cancellationToken) != 0)
        {
            throw new BackupException(BackupFailure.Tampered, "bytes follow the trailing checksum", null, Offset);
        }
    }

    private async Task FillAsync(Memory<byte> buffer, string what, CancellationToken cancellationToken)
    {
        var read = await _input.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        Offset += read;
        if (read < buffer.Length)
        {
            throw new BackupException(BackupFailure.Truncated, $"the file ends inside {what} at offset {Offset}", Chunks, Offset);
        }
    }
}
