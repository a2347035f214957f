using System.Net;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Resiliency;
using Grpc.Core;

namespace DaprGame.Sidecar.State;

/// <summary>A bulk-get answer for one key: no data and no error means the key does not exist.</summary>
public sealed record BulkStateResult(string Key, byte[]? Data, string? ETag, string? Error, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The state API's meaning, shared by the HTTP and gRPC surfaces: store lookup, key validation and prefixing, and
/// daprd's error codes and messages (shared/dapr-contract.md §1.5).
/// </summary>
public sealed class StateApi(ComponentRegistry components, SidecarOptions options, ResiliencyPolicies? resiliency = null)
{
    /// <summary>
    /// Runs one store call under the store's outbound resiliency policies (none: called directly). ETag conflicts,
    /// invalid ETags and values that cannot be decrypted are answers, not faults: they are never retried.
    /// </summary>
    private Task<T> RunAsync<T>(StateStoreHandle store, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        resiliency?.ForComponentOutbound(store.Spec.Name, "Statestore") is { } policies
            ? policies.ExecuteAsync(call, static _ => AttemptVerdict.Success, isRetriable: static e => e is not (ETagMismatchException or ETagInvalidException or DaprApiException or Encryption.StateDecryptionException), cancellationToken: cancellationToken)
            : call(cancellationToken);

    private Task RunAsync(StateStoreHandle store, Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        resiliency?.ForComponentOutbound(store.Spec.Name, "Statestore") is { } policies
            ? policies.ExecuteAsync(call, isRetriable: static e => e is not (ETagMismatchException or ETagInvalidException or DaprApiException or Encryption.StateDecryptionException), cancellationToken: cancellationToken)
            : call(cancellationToken);

    public StateStoreHandle Resolve(string storeName)
    {
        if (components.StateStores.Count == 0)
        {
            throw new DaprApiException("ERR_STATE_STORE_NOT_CONFIGURED", $"state store {storeName} is not configured", HttpStatusCode.InternalServerError, StatusCode.FailedPrecondition);
        }
        return components.StateStores.TryGetValue(storeName, out var handle)
            ? handle
            : throw new DaprApiException("ERR_STATE_STORE_NOT_FOUND", $"state store {storeName} is not found", HttpStatusCode.BadRequest, StatusCode.InvalidArgument);
    }

    public string StoredKey(StateStoreHandle store, string key)
    {
        if (key.Contains("||", StringComparison.Ordinal))
        {
            throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", $"input key/keyPrefix '{key}' can't contain '||'");
        }
        return store.PrefixFor(options.AppId, options.GetEnvironmentVariable) + key;
    }

    public async Task<StateItem?> GetAsync(string storeName, string key, CancellationToken cancellationToken)
    {
        var store = Resolve(storeName);
        var stored = StoredKey(store, key);
        try
        {
            return await RunAsync(store, ct => store.ApiStore.GetAsync(stored, ct), cancellationToken);
        }
        catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
        {
            throw DaprApiException.Internal("ERR_STATE_GET", $"fail to get {key} from state store {storeName}: {e.Message}", e);
        }
    }

    public async Task<IReadOnlyList<BulkStateResult>> GetBulkAsync(string storeName, IReadOnlyList<string> keys, int parallelism, CancellationToken cancellationToken)
    {
        var store = Resolve(storeName);
        var stored = keys.Select(k => StoredKey(store, k)).ToArray();
        var results = new BulkStateResult[keys.Count];
        await Parallel.ForAsync(0, keys.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken }, async (i, ct) =>
        {
            try
            {
                var item = await RunAsync(store, c => store.ApiStore.GetAsync(stored[i], c), ct);
                results[i] = new BulkStateResult(keys[i], item?.Value, item?.ETag, null, ExpiryMetadata(item));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                results[i] = new BulkStateResult(keys[i], null, null, e.Message, new Dictionary<string, string>());
            }
        });
        return results;
    }

    /// <summary>Saves each item in turn. As in daprd, a multi-item save is not atomic: only transactions are.</summary>
    public async Task SaveAsync(string storeName, IReadOnlyList<StateSet> items, CancellationToken cancellationToken)
    {
        var store = Resolve(storeName);
        var prepared = items.Select(i =>
        {
            if (string.IsNullOrEmpty(i.Key))
            {
                throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", "state key cannot be empty");
            }
            return i with { Key = StoredKey(store, i.Key) };
        }).ToList();
        foreach (var item in prepared)
        {
            try
            {
                await RunAsync(store, ct => store.ApiStore.SetAsync(item, ct), cancellationToken);
            }
            catch (ETagMismatchException e)
            {
                throw new DaprApiException("ERR_STATE_SAVE", $"failed saving state in state store {storeName}: possible etag mismatch. error from state store: {e.Message}", HttpStatusCode.Conflict, StatusCode.Aborted, e);
            }
            catch (ETagInvalidException e)
            {
                throw DaprApiException.BadRequest("ERR_STATE_SAVE", $"failed saving state in state store {storeName}: invalid etag value: {e.Message}");
            }
            catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
            {
                throw DaprApiException.Internal("ERR_STATE_SAVE", $"failed saving state in state store {storeName}: {e.Message}", e);
            }
        }
    }

    public async Task DeleteAsync(string storeName, StateDelete request, CancellationToken cancellationToken)
    {
        var store = Resolve(storeName);
        try
        {
            var prefixed = request with { Key = StoredKey(store, request.Key) };
            await RunAsync(store, ct => store.ApiStore.DeleteAsync(prefixed, ct), cancellationToken);
        }
        catch (ETagMismatchException e)
        {
            throw new DaprApiException("ERR_STATE_DELETE", $"failed deleting state with key {request.Key}: possible etag mismatch. error from state store: {e.Message}", HttpStatusCode.Conflict, StatusCode.Aborted, e);
        }
        catch (ETagInvalidException e)
        {
            throw DaprApiException.BadRequest("ERR_STATE_DELETE", $"failed deleting state with key {request.Key}: invalid etag value: {e.Message}");
        }
        catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
        {
            throw DaprApiException.Internal("ERR_STATE_DELETE", $"failed deleting state with key {request.Key}: {e.Message}", e);
        }
    }

    public async Task DeleteBulkAsync(string storeName, IReadOnlyList<StateDelete> requests, CancellationToken cancellationToken)
    {
        var store = Resolve(storeName);
        var prepared = requests.Select(r => r with { Key = StoredKey(store, r.Key) }).ToList();
        foreach (var request in prepared)
        {
            try
            {
                await RunAsync(store, ct => store.ApiStore.DeleteAsync(request, ct), cancellationToken);
            }
            catch (ETagMismatchException e)
            {
                throw new DaprApiException("ERR_STATE_DELETE", $"failed deleting state in state store {storeName}: possible etag mismatch. error from state store: {e.Message}", HttpStatusCode.Conflict, StatusCode.Aborted, e);
            }
            catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
            {
                throw DaprApiException.Internal("ERR_STATE_DELETE", $"failed deleting state in state store {storeName}: {e.Message}", e);
            }
        }
    }

    /// <summary>Atomic. Every failure, an ETag mismatch included, is reported as Internal, as daprd does.</summary>
    public async Task TransactAsync(string storeName, IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        var store = Resolve(storeName);
        if (!store.Store.Features.Contains("TRANSACTIONAL"))
        {
            throw new DaprApiException("ERR_STATE_STORE_NOT_SUPPORTED", $"state store {storeName} doesn't support transactions", HttpStatusCode.InternalServerError, StatusCode.Unimplemented);
        }
        var prepared = operations.Select(op => op.Set is { } s
            ? new StateOperation(s with { Key = StoredKey(store, NonEmpty(s.Key)) }, null)
            : new StateOperation(null, op.Delete! with { Key = StoredKey(store, NonEmpty(op.Delete!.Key)) })).ToList();
        try
        {
            await RunAsync(store, ct => store.ApiStore.ExecuteTransactionAsync(prepared, ct), cancellationToken);
        }
        catch (Exception e) when (e is not DaprApiException and not OperationCanceledException)
        {
            throw DaprApiException.Internal("ERR_STATE_TRANSACTION", $"error while executing state transaction: {e.Message}", e);
        }
    }

    /// <summary>Response metadata for items with an expiry, as state stores with the TTL feature report it.</summary>
    public static IReadOnlyDictionary<string, string> ExpiryMetadata(StateItem? item) =>
        item?.ExpiresAt is { } exp
            ? new Dictionary<string, string> { ["ttlExpireTime"] = exp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) }
            : new Dictionary<string, string>();

    /// <summary>Parses <c>ttlInSeconds</c> request metadata: absent gives null; -1 or ≤ 0 gives zero, meaning "no expiry".</summary>
    public static TimeSpan? ParseTtl(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null || !metadata.TryGetValue("ttlInSeconds", out var raw))
        {
            return null;
        }
        return long.TryParse(raw, out var seconds)
            ? seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero
            : throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", $"incorrect value for metadata 'ttlInSeconds': '{raw}' is not an integer");
    }

    private static string NonEmpty(string key) =>
        string.IsNullOrEmpty(key) ? throw DaprApiException.BadRequest("ERR_MALFORMED_REQUEST", "state key cannot be empty") : key;
}
