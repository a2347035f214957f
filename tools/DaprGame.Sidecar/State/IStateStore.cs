namespace DaprGame.Sidecar.State;

/// <summary>How a save treats an existing key, as Dapr's <c>StateOptions.concurrency</c>.</summary>
public enum Concurrency
{
    /// <summary>Not given by the caller: behaves as last-write, but an ETag, when sent, is still checked.</summary>
    Unspecified,

    /// <summary>Explicit last-write. Stores differ here as in Dapr: Redis then ignores the ETag.</summary>
    LastWrite,
    FirstWrite,
}

/// <summary>A stored value. <see cref="IsBinary"/> tells how it was saved (bytes vs JSON), which some layouts record.</summary>
public sealed record StateItem(byte[] Value, string ETag, bool IsBinary, DateTimeOffset? ExpiresAt);

/// <summary>One save, on a key that already carries its Dapr prefix (<c>appId||key</c>).</summary>
/// <param name="IsBinary">True for bytes from the gRPC API (stored as base64 by SQL stores); false for JSON values
/// (actor state, saves with <c>contentType=application/json</c>).</param>
/// <param name="Ttl">Null when the request set none (a component default may apply); zero when it asked for no expiry (<c>ttlInSeconds</c> ≤ 0).</param>
public sealed record StateSet(string Key, byte[] Value, string? ETag, Concurrency Concurrency, TimeSpan? Ttl, bool IsBinary = true);

/// <summary>One delete, on a prefixed key.</summary>
public sealed record StateDelete(string Key, string? ETag, Concurrency Concurrency);

/// <summary>One operation of a transaction: exactly one of <see cref="Set"/> and <see cref="Delete"/> is set.</summary>
public sealed record StateOperation(StateSet? Set, StateDelete? Delete);

/// <summary>The ETag supplied did not match the stored one, or the key is missing, or first-write found the key.</summary>
public sealed class ETagMismatchException(string detail) : Exception(detail);

/// <summary>The ETag supplied is not in the store's format (e.g. not an integer for Redis).</summary>
public sealed class ETagInvalidException(string detail) : Exception(detail);

/// <summary>
/// A Dapr state store component. Keys reach it already prefixed; it implements Dapr's ETag, first-write and TTL
/// rules exactly as the matching components-contrib component does, and stores data in the same layout.
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Dapr feature strings: ETAG, TRANSACTIONAL, TTL, …</summary>
    IReadOnlyList<string> Features { get; }

    /// <summary>Opens connections and creates tables. Called once before first use.</summary>
    Task InitAsync(CancellationToken cancellationToken);

    /// <summary>Null when the key does not exist or has expired.</summary>
    Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Throws <see cref="ETagMismatchException"/> or <see cref="ETagInvalidException"/> per Dapr's rules.</summary>
    Task SetAsync(StateSet request, CancellationToken cancellationToken);

    /// <summary>Deleting a missing key without an ETag succeeds.</summary>
    Task DeleteAsync(StateDelete request, CancellationToken cancellationToken);

    /// <summary>All or nothing: on any failure (an ETag mismatch included) nothing is changed.</summary>
    Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);
}
