using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// PBKDF2-HMAC-SHA256 with a 16-byte random salt and a 32-byte hash, compared in fixed time. At most half the cores
/// hash at once: a login flood then queues here instead of starving the gateway's socket loops of CPU.
/// </summary>
internal sealed class PasswordHasher(IOptions<AuthOptions> options) : IDisposable
{
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    // A fixed salt for the decoy hash: an unknown username must cost the same work as a known one.
    private static readonly byte[] DecoySalt = RandomNumberGenerator.GetBytes(SaltBytes);

    private readonly int _iterations = Math.Max(1, options.Value.Pbkdf2Iterations);
    private readonly SemaphoreSlim _slots = new(Math.Max(1, Environment.ProcessorCount / 2));

    public async Task<(string Hash, string Salt, int Iterations)> HashAsync(string password, CancellationToken cancellationToken)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = await RunAsync(() => Rfc2898DeriveBytes.Pbkdf2(password, salt, _iterations, HashAlgorithmName.SHA256, HashBytes), cancellationToken);
        return (Convert.ToBase64String(hash), Convert.ToBase64String(salt), _iterations);
    }

    public Task<bool> VerifyAsync(string password, AccountRecord account, CancellationToken cancellationToken) =>
        RunAsync(() => Verify(password, account), cancellationToken);

    /// <summary>Spends one hash computation and fails: used when the username does not exist.</summary>
    public Task<bool> VerifyDecoyAsync(string password, CancellationToken cancellationToken) =>
        RunAsync(() =>
        {
            _ = Rfc2898DeriveBytes.Pbkdf2(password, DecoySalt, _iterations, HashAlgorithmName.SHA256, HashBytes);
            return false;
        }, cancellationToken);

    public void Dispose() => _slots.Dispose();

    private async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return work();
        }
        finally
        {
            _slots.Release();
        }
    }

    private static bool Verify(string password, AccountRecord account)
    {
        byte[] expected;
        byte[] salt;
        try
        {
            expected = Convert.FromBase64String(account.PasswordHash);
            salt = Convert.FromBase64String(account.Salt);
        }
        catch (FormatException)
        {
            return false;
        }
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, Math.Max(1, account.Iterations), HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
