using System.Globalization;
using System.Text.RegularExpressions;
using DaprGame.Sidecar.Components;

namespace DaprGame.Sidecar.Actors;

/// <summary>
/// The time formats Dapr accepts for reminder and timer <c>dueTime</c>, <c>period</c> and <c>ttl</c>
/// (shared/dapr-contract.md §2.4): Go durations, ISO-8601 durations (<c>PT…</c>, with <c>R&lt;n&gt;/</c> for
/// periods) and RFC3339 instants (dueTime and ttl only). The strings themselves are kept verbatim by callers, since
/// the SDK can only parse back its own formats.
/// </summary>
public static partial class ActorSchedule
{
    [GeneratedRegex(@"^P(?:(?<y>\d+)Y)?(?:(?<mo>\d+)M)?(?:(?<w>\d+)W)?(?:(?<d>\d+)D)?(?:T(?:(?<h>\d+(?:\.\d+)?)H)?(?:(?<mi>\d+(?:\.\d+)?)M)?(?:(?<s>\d+(?:\.\d+)?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDuration();

    [GeneratedRegex(@"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$", RegexOptions.CultureInvariant)]
    private static partial Regex GoDuration();

    /// <summary>A Go duration (<c>0h0m5s0ms</c>, <c>1.5s</c>, <c>-1ms</c>, <c>0</c>); unlike YAML, bare numbers other than 0 are refused as Go does.</summary>
    public static bool TryParseGoDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var body = text.StartsWith('-') || text.StartsWith('+') ? text[1..] : text;
        if (body == "0")
        {
            return true;
        }
        return GoDuration().IsMatch(body) && DurationParser.TryParse(text.TrimStart('+'), out value);
    }

    /// <summary>An ISO-8601 duration. Years and months have no fixed length and are refused; <paramref name="allowDays"/> admits weeks and days.</summary>
    public static bool TryParseIsoDuration(string text, bool allowDays, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var m = IsoDuration().Match(text);
        if (!m.Success || text == "P" || text.EndsWith('T') || m.Groups["y"].Success || m.Groups["mo"].Success)
        {
            return false;
        }
        if (!allowDays && (m.Groups["w"].Success || m.Groups["d"].Success))
        {
            return false;
        }
        double Part(string g) => m.Groups[g].Success ? double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture) : 0;
        value = TimeSpan.FromDays(Part("w") * 7 + Part("d")) + TimeSpan.FromHours(Part("h")) + TimeSpan.FromMinutes(Part("mi")) + TimeSpan.FromSeconds(Part("s"));
        return true;
    }

    /// <summary>When the first callback is due: absent or empty means now.</summary>
    /// <summary>
    /// A reminder's or timer's whole schedule from its registration strings: first due instant, period,
    /// repetitions and expiry. Throws <see cref="FormatException"/> naming <paramref name="what"/> on a bad value.
    /// </summary>
    public static (DateTimeOffset Due, TimeSpan? Every, int? Repetitions, DateTimeOffset? Expires) Parse(
        string? dueTime, string? period, string? ttl, DateTimeOffset now, bool allowDays, string what)
    {
        var due = ParseDueTime(dueTime, now, what);
        var (every, repetitions) = ParsePeriod(period, allowDays, what);
        return (due, every, repetitions, ParseTtl(ttl, now, what));
    }

    public static DateTimeOffset ParseDueTime(string? text, DateTimeOffset now, string what)
    {
        if (string.IsNullOrEmpty(text))
        {
            return now;
        }
        if (TryParseGoDuration(text, out var d) || TryParseIsoDuration(text, allowDays: true, out d))
        {
            return d <= TimeSpan.Zero ? now : now + d;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && text.Contains('T', StringComparison.Ordinal))
        {
            return at;
        }
        throw new FormatException($"error parsing {what} due time: unsupported time/duration format \"{text}\"");
    }

    /// <summary>The period and repetitions: absent, empty or negative means a single callback.</summary>
    public static (TimeSpan? Period, int? Repetitions) ParsePeriod(string? text, bool allowDays, string what)
    {
        if (string.IsNullOrEmpty(text))
        {
            return (null, null);
        }
        int? repetitions = null;
        var body = text;
        if (text.StartsWith('R'))
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 || !int.TryParse(text.AsSpan(1, slash - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                throw new FormatException($"error parsing {what} period: unsupported repetition format \"{text}\"");
            }
            repetitions = n;
            body = text[(slash + 1)..];
            if (!TryParseIsoDuration(body, allowDays, out var isoPeriod))
            {
                throw new FormatException($"error parsing {what} period: unsupported duration format \"{text}\"");
            }
            return (isoPeriod, repetitions);
        }
        if (TryParseGoDuration(body, out var p) || TryParseIsoDuration(body, allowDays, out p))
        {
            return p <= TimeSpan.Zero ? (null, null) : (p, null);
        }
        throw new FormatException($"error parsing {what} period: unsupported duration format \"{text}\"");
    }

    /// <summary>When the reminder or timer expires: absent means never; a duration counts from <paramref name="start"/>.</summary>
    public static DateTimeOffset? ParseTtl(string? text, DateTimeOffset start, string what)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (TryParseGoDuration(text, out var d) || TryParseIsoDuration(text, allowDays: true, out d))
        {
            return start + d;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && text.Contains('T', StringComparison.Ordinal))
        {
            return at;
        }
        throw new FormatException($"error parsing {what} TTL: unsupported time/duration format \"{text}\"");
    }
}
