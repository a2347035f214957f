using System.Buffers.Binary;
using System.Security.Cryptography;

namespace DaprGame.Persistence.Domain.Backup;

/// <summary>
/// Seals plaintext into frames: <c>[length u32][ciphertext][tag 16]</c>. Every chunk but the last carries exactly
/// <see cref="BackupHeader.ChunkSize"/> bytes and the last strictly fewer (possibly none), so a reader knows the final
/// chunk by its length and the final flag in its associated data proves it. After the final chunk comes SHA-256 over
/// every byte before it.
/// </summary>
internal sealed class ChunkWriter : IDisposable
{
    public const int TagLength = 16;

    private readonly Stream _output;
    private readonly BackupHeader _header;
    private readonly AesGcm _aes;
    private readonly byte[] _plain;
    private readonly byte[] _frame;
    private readonly IncrementalHash _checksum = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _file = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _filled;
    private long _chunk;

    public ChunkWriter(Stream output, BackupHeader header, byte[] chunkKey)
    {
        _output = output;
        _header = header;
        _aes = new AesGcm(chunkKey, TagLength);
        _plain = new byte[header.ChunkSize];
        _frame = new byte[4 + header.ChunkSize + TagLength];
    }

    public long BytesWritten { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken) => await EmitAsync(_header.Bytes, cancellationToken);

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var take = Math.Min(data.Length, _plain.Length - _filled);
            data.Span[..take].CopyTo(_plain.AsSpan(_filled));
            _filled += take;
            data = data[take..];
            if (_filled == _plain.Length)
            {
                await SealAsync(final: false, cancellationToken);
            }
        }
    }

    /// <summary>Seals the final chunk and writes the checksum; returns the SHA-256 of the whole file.</summary>
    public async Task<byte[]> CompleteAsync(CancellationToken cancellationToken)
    {
        await SealAsync(final: true, cancellationToken);
        var checksum = _checksum.GetHashAndReset();
        await EmitAsync(checksum, cancellationToken);
        await _output.FlushAsync(cancellationToken);
        return _file.GetHashAndReset();
    }

    public void Dispose()
    {
        _aes.Dispose();
        _checksum.Dispose();
        _file.Dispose();
    }

    private async Task SealAsync(bool final, CancellationToken cancellationToken)
    {
        var length = _filled;
        Seal(length, final);
        await EmitAsync(_frame.AsMemory(0, 4 + length + TagLength), cancellationToken);
        _filled = 0;
        _chunk++;
    }

    private void Seal(int length, bool final)
    {
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[BackupHeader.AssociatedDataLength];
        _header.Nonce(_chunk, nonce);
        _header.AssociatedData(_chunk, final, aad);
        BinaryPrimitives.WriteInt32BigEndian(_frame, length);
        _aes.Encrypt(nonce, _plain.AsSpan(0, length), _frame.AsSpan(4, length), _frame.AsSpan(4 + length, TagLength), aad);
    }

    private async Task EmitAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _checksum.AppendData(bytes.Span);
        _file.AppendData(bytes.Span);
        await _output.WriteAsync(bytes, cancellationToken);
        BytesWritten += bytes.Length;
    }
}
