using System.Globalization;
using Dapr;
using Dapr.Client;
using DaprGame.Contracts;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// The auth records in the Dapr state store. Conditional writes report a lost race as <c>false</c>; the caller re-reads
/// and decides, because the Dapr API reports some conflicts (first-write, transactions) no differently from failures.
/// </summary>
internal sealed class AuthState(DaprClient dapr)
{
    public const string KeyRingKey = "auth-keyring";

    public static string AccountKey(string usernameLower) => "auth-account-" + usernameLower;

    public static string DeviceKey(string deviceId) => "auth-device-" + deviceId;

    public static string PlayerKey(string playerId) => "auth-player-" + playerId;

    public static string SessionKey(string sessionId) => "auth-session-" + sessionId;

    public static string UserThrottleKey(string usernameLower) => "auth-throttle-user-" + usernameLower;

    public static string IpThrottleKey(string address) => "auth-throttle-ip-" + address;

    public async Task<T?> GetAsync<T>(string key, CancellationToken cancellationToken) where T : class =>
        await dapr.GetStateAsync<T?>(Components.StateStore, key, cancellationToken: cancellationToken);

    public async Task<(T? Value, string ETag)> GetWithETagAsync<T>(string key, CancellationToken cancellationToken) where T : class
    {
        var (value, etag) = await dapr.GetStateAndETagAsync<T?>(Components.StateStore, key, cancellationToken: cancellationToken);
        return (value, etag ?? "");
    }

    public Task SaveAsync<T>(string key, T value, TimeSpan? ttl, CancellationToken cancellationToken) =>
        dapr.SaveStateAsync(Components.StateStore, key, value, metadata: TtlMetadata(ttl), cancellationToken: cancellationToken);

    /// <summary>Writes only if the key does not exist; <c>false</c> when it does (or the write failed).</summary>
    public async Task<bool> TryCreateAsync<T>(string key, T value, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.SaveStateAsync(Components.StateStore, key, value,
                new StateOptions { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong },
                TtlMetadata(ttl), cancellationToken);
            return true;
        }
        catch (DaprException)
        {
            return false;
        }
    }

    /// <summary>Creates all keys at once, none if any exists; <c>false</c> when the transaction failed.</summary>
    public async Task<bool> TryCreateAllAsync(IReadOnlyList<(string Key, object Value)> items, CancellationToken cancellationToken)
    {
        var operations = items.Select(i => new StateTransactionRequest(
            i.Key,
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(i.Value, i.Value.GetType(), Hosting.ServiceDefaults.JsonOptions),
            StateOperationType.Upsert,
            options: new StateOptions { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong })).ToList();
        try
        {
            await dapr.ExecuteStateTransactionAsync(Components.StateStore, operations, cancellationToken: cancellationToken);
            return true;
        }
        catch (DaprException)
        {
            return false;
        }
    }

    /// <summary>Writes only over the version read with <paramref name="etag"/>; <c>false</c> when another write came first.</summary>
    public async Task<bool> TryReplaceAsync<T>(string key, T value, string etag, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        try
        {
            return await dapr.TrySaveStateAsync(Components.StateStore, key, value, etag,
                new StateOptions { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong },
                TtlMetadata(ttl), cancellationToken);
        }
        catch (DaprException)
        {
            return false;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        dapr.DeleteStateAsync(Components.StateStore, key, cancellationToken: cancellationToken);

    private static Dictionary<string, string>? TtlMetadata(TimeSpan? ttl) =>
        ttl is { } t
            ? new Dictionary<string, string> { ["ttlInSeconds"] = Math.Max(1, (long)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture) }
            : null;
}
