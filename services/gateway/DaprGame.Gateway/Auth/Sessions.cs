using System.Buffers.Text;
using System.Security.Cryptography;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Players;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

internal enum RefreshStatus
{
    Rotated,
    Invalid,
    Reused,
}

internal readonly record struct RefreshOutcome(RefreshStatus Status, SessionRecord? Session = null, string? RefreshToken = null);

/// <summary>
/// Sessions = refresh-token families. A refresh token is <c>{sessionId}.{secret}</c> (32 random bytes, base64url);
/// the record keeps SHA-256 hashes only. Refreshing with the current secret rotates it under the record's ETag, so of
/// two refreshes racing with one secret only one wins. Presenting an earlier secret of the family means a copy is in
/// someone else's hands: the whole family is revoked. Every revocation is published on <c>player</c> so every gateway
/// closes the session's sockets.
/// </summary>
internal sealed class Sessions(
    AuthState state,
    SessionRevocations revocations,
    DaprClient dapr,
    TimeProvider time,
    IOptions<AuthOptions> options,
    GatewayAuthMetrics metrics,
    ILogger<Sessions> logger)
{
    /// <summary>
    /// Earlier secrets remembered for reuse detection. An older one than this is refused without revoking: only
    /// remembered secrets prove a copy exists, and a session id alone (it is in every access token) must not be
    /// enough to end someone's session.
    /// </summary>
    private const int RememberedSecrets = 32;

    private readonly AuthOptions _options = options.Value;

    /// <summary>Records outlive their refresh expiry long enough for any access token of theirs to expire first.</summary>
    private TimeSpan RecordTtl => _options.RefreshTokenLifetime + _options.AccessTokenLifetime + TimeSpan.FromHours(1);

    public async Task<(SessionRecord Session, string RefreshToken)> CreateAsync(string playerId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sessionId = AuthIds.NewSessionId();
        var (secret, hash) = NewSecret();
        var session = new SessionRecord(sessionId, playerId, hash, Generation: 1, [], now, now + _options.RefreshTokenLifetime);
        if (!await state.TryCreateAsync(AuthState.SessionKey(sessionId), session, RecordTtl, cancellationToken))
        {
            throw new InvalidOperationException("A new session could not be stored.");
        }
        return (session, sessionId + "." + secret);
    }

    public async Task<RefreshOutcome> RefreshAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        if (!TryParse(refreshToken, out var sessionId, out var presentedHash))
        {
            return new(RefreshStatus.Invalid);
        }
        var (session, etag) = await state.GetWithETagAsync<SessionRecord>(AuthState.SessionKey(sessionId), cancellationToken);
        if (session is null || session.Revoked)
        {
            return new(RefreshStatus.Invalid);
        }
        var now = time.GetUtcNow();
        if (HashEquals(presentedHash, session.SecretHash))
        {
            if (now >= session.ExpiresAt)
            {
                return new(RefreshStatus.Invalid);
            }
            var (secret, hash) = NewSecret();
            var rotated = session with
            {
                SecretHash = hash,
                Generation = session.Generation + 1,
                PreviousSecretHashes = [session.SecretHash, .. session.PreviousSecretHashes.Take(RememberedSecrets - 1)],
                ExpiresAt = now + _options.RefreshTokenLifetime,
            };
            // The loser of a race with the same secret is refused but does not revoke: a client retrying a request
            // whose answer it lost is not an attacker. Presenting that secret again afterwards is reuse.
            return await state.TryReplaceAsync(AuthState.SessionKey(sessionId), rotated, etag, RecordTtl, cancellationToken)
                ? new(RefreshStatus.Rotated, rotated, sessionId + "." + secret)
                : new(RefreshStatus.Invalid);
        }
        if (session.PreviousSecretHashes.Any(h => HashEquals(presentedHash, h)))
        {
            GatewayAuthLog.RefreshReuse(logger, sessionId, session.PlayerId);
            await RevokeAsync(sessionId, RevocationReasons.RefreshReuse, cancellationToken);
            return new(RefreshStatus.Reused, session);
        }
        return new(RefreshStatus.Invalid);
    }

    /// <summary>Revokes the family; <c>false</c> when it was already revoked or does not exist.</summary>
    public async Task<bool> RevokeAsync(string sessionId, string reason, CancellationToken cancellationToken)
    {
        SessionRecord? revoked = null;
        for (var attempt = 0; revoked is null; attempt++)
        {
            var (session, etag) = await state.GetWithETagAsync<SessionRecord>(AuthState.SessionKey(sessionId), cancellationToken);
            if (session is null || session.Revoked)
            {
                return false;
            }
            var next = session with { Revoked = true, RevokedReason = reason, RevokedAt = time.GetUtcNow() };
            if (await state.TryReplaceAsync(AuthState.SessionKey(sessionId), next, etag, RecordTtl, cancellationToken))
            {
                revoked = next;
            }
            else if (attempt >= 5)
            {
                throw new InvalidOperationException($"Session {sessionId} kept changing while being revoked.");
            }
        }

        // The record is revoked first, so every replica's validator refuses the session within its cache time even if
        // the event below is lost; the event makes it immediate and closes sockets.
        revocations.Learn(revoked.PlayerId, sessionId);
        metrics.SessionRevoked(reason);
        GatewayAuthLog.SessionRevoked(logger, sessionId, revoked.PlayerId, reason);
        try
        {
            var revokedEvent = new PlayerSessionRevoked
            {
                Id = Guid.NewGuid().ToString("N"),
                OccurredAt = revoked.RevokedAt!.Value,
                StreamId = "player/" + revoked.PlayerId,
                Sequence = await NextSequenceAsync(revoked.PlayerId, cancellationToken),
                PlayerId = revoked.PlayerId,
                SessionId = sessionId,
                Reason = reason,
            };
            await dapr.PublishEventAsync(Components.PubSub, Topics.Players, revokedEvent,
                new Dictionary<string, string> { ["cloudevent.type"] = PlayerSessionRevoked.EventType }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            GatewayAuthLog.RevocationPublishFailed(logger, e, sessionId);
        }
        return true;
    }

    /// <summary>The next position in the <c>player/{id}</c> stream, kept on the player record.</summary>
    private async Task<long> NextSequenceAsync(string playerId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (player, etag) = await state.GetWithETagAsync<PlayerRecord>(AuthState.PlayerKey(playerId), cancellationToken);
            if (player is null)
            {
                return 1;
            }
            var next = player with { EventSequence = player.EventSequence + 1 };
            if (await state.TryReplaceAsync(AuthState.PlayerKey(playerId), next, etag, ttl: null, cancellationToken))
            {
                return next.EventSequence;
            }
            if (attempt >= 5)
            {
                throw new InvalidOperationException($"Player {playerId}'s record kept changing while numbering an event.");
            }
        }
    }

    private static (string Secret, string Hash) NewSecret()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        return (Base64Url.EncodeToString(secret), Convert.ToBase64String(SHA256.HashData(secret)));
    }

    private static bool TryParse(string? token, out string sessionId, out byte[] hash)
    {
        sessionId = "";
        hash = [];
        if (token is null || token.Length > 128)
        {
            return false;
        }
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || !AuthIds.IsSessionId(token.AsSpan(0, dot)))
        {
            return false;
        }
        byte[] secret;
        try
        {
            secret = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return false;
        }
        if (secret.Length != 32)
        {
            return false;
        }
        sessionId = token[..dot];
        hash = SHA256.HashData(secret);
        return true;
    }

    private static bool HashEquals(byte[] presented, string stored)
    {
        try
        {
            return CryptographicOperations.FixedTimeEquals(presented, Convert.FromBase64String(stored));
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>The <c>reason</c> values of <see cref="PlayerSessionRevoked"/>.</summary>
public static class RevocationReasons
{
    public const string Logout = "logout";
    public const string RefreshReuse = "refresh_reuse";
    public const string Admin = "admin";
}
