using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>
/// Hashes a view's content as a sequence of typed, length-prefixed values. Views feed it from sorted collections
/// (ordinal keys), so the hash depends on content only — never on dictionary order or on how the view was reached.
/// </summary>
public sealed class ContentHasher : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public ContentHasher Add(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Add((long)bytes.Length);
        _hash.AppendData(bytes);
        return this;
    }

    public ContentHasher Add(long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(buffer, value);
        _hash.AppendData(buffer);
        return this;
    }

    public ContentHasher Add(bool value) => Add(value ? 1L : 0L);

    public ContentHasher Add(DateTimeOffset value) => Add(value.UtcTicks);

    public string Finish() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    public void Dispose() => _hash.Dispose();
}
