namespace DaprGame.Sidecar.State.Encryption;

/// <summary>
/// The state API's view of an encrypted store: values are encrypted on every save and transaction upsert and
/// decrypted on every read, so any <see cref="IStateStore"/> gets daprd's encryption without knowing about it. Keys,
/// ETags, TTLs, concurrency and deletes pass through untouched: the store computes its ETag over the ciphertext, as
/// the component does under daprd. Actor state does not go through here (daprd's actor runtime never encrypts), so
/// the actors feature keeps using the inner store.
/// </summary>
public sealed class EncryptedStateStore(IStateStore inner, StateEncryption encryption) : IStateStore
{
    public IReadOnlyList<string> Features => inner.Features;

    public StateEncryption Encryption => encryption;

    public Task InitAsync(CancellationToken cancellationToken) => inner.InitAsync(cancellationToken);

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken) =>
        await inner.GetAsync(key, cancellationToken) is { } item ? item with { Value = encryption.Decrypt(item.Value) } : null;

    public Task SetAsync(StateSet request, CancellationToken cancellationToken) =>
        inner.SetAsync(Encrypt(request), cancellationToken);

    public Task DeleteAsync(StateDelete request, CancellationToken cancellationToken) =>
        inner.DeleteAsync(request, cancellationToken);

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken) =>
        inner.ExecuteTransactionAsync([.. operations.Select(op => op.Set is { } set ? op with { Set = Encrypt(set) } : op)], cancellationToken);

    /// <summary>The inner store is owned by the component registry, which disposes it.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // The ciphertext reaches the component as bytes (daprd replaces the request value with a []byte), so JSON
    // saves (contentType=application/json) are stored as binary too: SQLite/PostgreSQL keep them base64 with is_binary.
    private StateSet Encrypt(StateSet request) =>
        request with { Value = encryption.Encrypt(request.Value), IsBinary = true };
}
