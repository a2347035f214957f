namespace DaprGame.Gateway.Auth;

// What the gateway keeps in the Dapr state store (component `statestore`). Field names are part of the stored format:
// add fields, never rename them, or existing accounts and sessions stop loading.

/// <summary><c>auth-account-{usernameLower}</c>, written first-write so a username is taken once.</summary>
internal sealed record AccountRecord(string Username, string PlayerId, string PasswordHash, string Salt, int Iterations, DateTimeOffset CreatedAt);

/// <summary><c>auth-device-{deviceId}</c>: a guest device's player, written first-write.</summary>
internal sealed record DeviceRecord(string DeviceId, string PlayerId, DateTimeOffset CreatedAt);

/// <summary><c>auth-player-{playerId}</c>: profile and roles; <see cref="EventSequence"/> numbers the <c>player/{id}</c> stream.</summary>
internal sealed record PlayerRecord(string PlayerId, string DisplayName, string? Username, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt, long EventSequence = 0);

/// <summary>
/// <c>auth-session-{sessionId}</c>: one refresh-token family. Holds hashes of the current and recent secrets, never a
/// secret itself, so a copy of the store cannot be replayed as refresh tokens.
/// </summary>
internal sealed record SessionRecord(
    string SessionId,
    string PlayerId,
    string SecretHash,
    long Generation,
    IReadOnlyList<string> PreviousSecretHashes,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    bool Revoked = false,
    string? RevokedReason = null,
    DateTimeOffset? RevokedAt = null);

/// <summary><c>auth-keyring</c>: the signing keys; <see cref="CurrentKid"/> signs, retired keys only verify.</summary>
internal sealed record KeyRingRecord(string CurrentKid, IReadOnlyList<SigningKeyRecord> Keys);

/// <summary>
/// One ES256 key. <see cref="Pkcs8"/> is the private key in the clear: the state store holding it must be encrypted at
/// rest in production (Dapr state encryption or the store's own); encrypting it here is a later issue.
/// </summary>
internal sealed record SigningKeyRecord(string Kid, string Pkcs8, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt);

/// <summary><c>auth-throttle-user-{usernameLower}</c> / <c>auth-throttle-ip-{address}</c>: failed logins in the current window.</summary>
internal sealed record ThrottleRecord(DateTimeOffset WindowStart, int Failures);
