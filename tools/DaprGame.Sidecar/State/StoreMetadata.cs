using System.Globalization;
using System.Text.RegularExpressions;
using DaprGame.Sidecar.Components;

namespace DaprGame.Sidecar.State;

/// <summary>
/// Reads component metadata the way components-contrib does for the persistent stores, failing start-up with a
/// message that names the component and the field instead of letting a bad value surface on the first request.
/// </summary>
internal static partial class StoreMetadata
{
    // Table names are spliced into SQL (no driver substitutes identifiers), so only plain identifiers pass,
    // optionally schema-qualified as Dapr's PostgreSQL store allows.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();

    /// <param name="suffix">Appended to the value first, for prefix settings such as PostgreSQL v2's <c>tablePrefix</c>.</param>
    public static string TableName(ComponentSpec spec, string field, string fallback, bool allowSchema, string suffix = "")
    {
        var value = (spec.Get(field) is { Length: > 0 } v ? v : fallback) + suffix;
        if (!Identifier().IsMatch(value) || (!allowSchema && value.Contains('.', StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"metadata '{field}' value '{value}' is not a valid table name (letters, digits and underscores{(allowSchema ? ", optionally schema.table" : "")})");
        }
        return value;
    }

    public static TimeSpan Duration(ComponentSpec spec, string field, TimeSpan fallback)
    {
        try
        {
            return spec.GetDuration(field) ?? fallback;
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"metadata '{field}': {e.Message}", e);
        }
    }

    public static int? Int(ComponentSpec spec, string field)
    {
        if (spec.Get(field) is not { Length: > 0 } raw)
        {
            return null;
        }
        return int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidOperationException($"metadata '{field}' value '{raw}' is not an integer");
    }
}
