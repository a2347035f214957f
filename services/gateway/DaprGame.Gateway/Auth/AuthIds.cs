using System.Security.Cryptography;

namespace DaprGame.Gateway.Auth;

/// <summary>
/// Random identifiers. Player ids appear in chat channel ids (<c>dm-{a}-{b}</c>) and state keys, so they use only
/// lowercase base32 letters, digits and one underscore.
/// </summary>
internal static class AuthIds
{
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary><c>p_</c> + 16 base32 characters (80 random bits).</summary>
    public static string NewPlayerId() => "p_" + RandomNumberGenerator.GetString(Base32, 16);

    /// <summary><c>s_</c> + 26 base32 characters (130 random bits): also the <c>sid</c> claim and refresh-token prefix.</summary>
    public static string NewSessionId() => "s_" + RandomNumberGenerator.GetString(Base32, 26);

    public static string NewKeyId() => "k_" + RandomNumberGenerator.GetString(Base32, 16);

    public static string NewTokenId() => RandomNumberGenerator.GetHexString(32, lowercase: true);

    public static bool IsSessionId(ReadOnlySpan<char> value) => HasShape(value, "s_", 26);

    public static bool IsPlayerId(ReadOnlySpan<char> value) => HasShape(value, "p_", 16);

    private static bool HasShape(ReadOnlySpan<char> value, string prefix, int length)
    {
        if (value.Length != prefix.Length + length || !value.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in value[prefix.Length..])
        {
            if (!Base32.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}
