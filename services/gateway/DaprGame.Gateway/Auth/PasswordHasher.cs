using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace DaprGame.Gateway.Auth;

/// <summary>PBKDF2-HMAC-SHA256 with a 16-byte random salt and a 32-byte hash, compared in fixed time.</summary>
internal sealed class PasswordHasher(IOptions<AuthOptions> options)
{
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    // A fixed salt for the decoy hash: an unknown username must cost the same work as a known one.
    private static readonly byte[] DecoySalt = RandomNumberGenerator.GetBytes(SaltBytes);

    private readonly int _iterations = Math.Max(1, options.Value.Pbkdf2Iterations);

    public (string Hash, string Salt, int Iterations) Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, _iterations, HashAlgorithmName.SHA256, HashBytes);
        return (Convert.ToBase64String(hash), Convert.ToBase64String(salt), _iterations);
    }

    public static bool Verify(string password, AccountRecord account)
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

    /// <summary>Spends one hash computation and fails: used when the username does not exist.</summary>
    public bool VerifyDecoy(string password)
    {
        _ = Rfc2898DeriveBytes.Pbkdf2(password, DecoySalt, _iterations, HashAlgorithmName.SHA256, HashBytes);
        return false;
    }
}
