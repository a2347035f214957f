using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// Player accounts: guests by device id and registered users by username. Each new player is created in one
/// first-write transaction with its device or username record, so two requests for one device or one name cannot
/// both create a player.
/// </summary>
internal sealed class Accounts(AuthState state, PasswordHasher hasher, TimeProvider time, IOptions<AuthOptions> options, ILogger<Accounts> logger)
{
    private readonly AuthOptions _options = options.Value;

    /// <summary>The device's player, created on its first sign-in; the same device always gets the same player.</summary>
    public async Task<PlayerRecord> GuestAsync(string deviceId, string? displayName, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await state.GetAsync<DeviceRecord>(AuthState.DeviceKey(deviceId), cancellationToken) is { } device)
            {
                return await GetOrRepairPlayerAsync(device.PlayerId, username: null, cancellationToken);
            }
            var now = time.GetUtcNow();
            var playerId = AuthIds.NewPlayerId();
            var player = new PlayerRecord(playerId, displayName ?? "guest-" + playerId[^6..], Username: null, [GatewayRoles.Player], now);
            if (await state.TryCreateAllAsync(
                [(AuthState.PlayerKey(playerId), player), (AuthState.DeviceKey(deviceId), new DeviceRecord(deviceId, playerId, now))],
                cancellationToken))
            {
                return player;
            }
            // Another request created the device first (read it on the next pass), or the store failed.
            if (attempt >= 2)
            {
                throw new InvalidOperationException("The guest account could neither be read nor created.");
            }
        }
    }

    /// <summary>Creates the account, or null when the username (case-insensitively) is taken.</summary>
    public async Task<PlayerRecord?> RegisterAsync(string username, string password, string? displayName, CancellationToken cancellationToken)
    {
        var usernameLower = username.ToLowerInvariant();
        if (await state.GetAsync<AccountRecord>(AuthState.AccountKey(usernameLower), cancellationToken) is not null)
        {
            // Spend the hash anyway, so "taken" costs the same time as "created".
            await hasher.VerifyDecoyAsync(password, cancellationToken);
            return null;
        }
        var now = time.GetUtcNow();
        var playerId = AuthIds.NewPlayerId();
        var (hash, salt, iterations) = await hasher.HashAsync(password, cancellationToken);
        var player = new PlayerRecord(playerId, displayName ?? username, username, [GatewayRoles.Player], now);
        var account = new AccountRecord(username, playerId, hash, salt, iterations, now);
        if (await state.TryCreateAllAsync([(AuthState.PlayerKey(playerId), player), (AuthState.AccountKey(usernameLower), account)], cancellationToken))
        {
            GatewayAuthLog.Registered(logger, playerId);
            return player;
        }
        if (await state.GetAsync<AccountRecord>(AuthState.AccountKey(usernameLower), cancellationToken) is not null)
        {
            return null;
        }
        throw new InvalidOperationException("The account could not be stored.");
    }

    /// <summary>The account's player when the password matches; null otherwise, after the same hashing work either way.</summary>
    public async Task<PlayerRecord?> LoginAsync(string username, string password, CancellationToken cancellationToken)
    {
        var account = await state.GetAsync<AccountRecord>(AuthState.AccountKey(username.ToLowerInvariant()), cancellationToken);
        if (account is null)
        {
            await hasher.VerifyDecoyAsync(password, cancellationToken);
            return null;
        }
        return await hasher.VerifyAsync(password, account, cancellationToken)
            ? await GetOrRepairPlayerAsync(account.PlayerId, account.Username, cancellationToken)
            : null;
    }

    public Task<PlayerRecord?> FindPlayerAsync(string playerId, CancellationToken cancellationToken) =>
        state.GetAsync<PlayerRecord>(AuthState.PlayerKey(playerId), cancellationToken);

    /// <summary>The roles a token carries: the stored ones, plus <c>admin</c> for configured admin usernames.</summary>
    public IReadOnlyList<string> RolesOf(PlayerRecord player)
    {
        var roles = new List<string>(player.Roles.Count + 1);
        roles.AddRange(player.Roles.Distinct(StringComparer.Ordinal));
        if (!roles.Contains(GatewayRoles.Player))
        {
            roles.Insert(0, GatewayRoles.Player);
        }
        if (_options.IsAdmin(player.Username) && !roles.Contains(GatewayRoles.Admin))
        {
            roles.Add(GatewayRoles.Admin);
        }
        return roles;
    }

    /// <summary>Player records are written with their account in one transaction; this covers stores without one.</summary>
    private async Task<PlayerRecord> GetOrRepairPlayerAsync(string playerId, string? username, CancellationToken cancellationToken)
    {
        if (await FindPlayerAsync(playerId, cancellationToken) is { } player)
        {
            return player;
        }
        var repaired = new PlayerRecord(playerId, username ?? "guest-" + playerId[^6..], username, [GatewayRoles.Player], time.GetUtcNow());
        await state.TryCreateAsync(AuthState.PlayerKey(playerId), repaired, ttl: null, cancellationToken);
        return await FindPlayerAsync(playerId, cancellationToken) ?? repaired;
    }
}
