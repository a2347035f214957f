using System.Globalization;

namespace DaprGame.Gateway.Auth;

/// <summary>Input rules of the auth endpoints.</summary>
internal static class AuthValidation
{
    public const int MaxPassword = 128;
    public const string DisplayNameRule = "displayName must be 1–32 characters without control or format characters.";

    public static bool IsUsername(string? value) =>
        value is { Length: >= 3 and <= 24 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    public static bool IsPassword(string? value) => value is { Length: >= 8 and <= MaxPassword };

    public static bool IsDeviceId(string? value) =>
        value is { Length: >= 10 and <= 128 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    /// <summary>Null stays null (use the default); otherwise trimmed and checked.</summary>
    public static bool TryDisplayName(string? value, out string? displayName)
    {
        displayName = value?.Trim();
        if (displayName is null)
        {
            return true;
        }
        return displayName.Length is >= 1 and <= 32
            && displayName.All(c => !char.IsControl(c) && CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned));
    }
}
