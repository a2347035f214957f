using System.Globalization;
using System.Text.RegularExpressions;

namespace DaprGame.Sidecar.Components;

/// <summary>Parses durations in the forms Dapr accepts in YAML: Go durations (<c>1h2m3.5s</c>, <c>250ms</c>) and plain seconds.</summary>
public static partial class DurationParser
{
    [GeneratedRegex(@"(?<n>\d+(\.\d+)?)(?<u>ns|us|µs|ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex GoPart();

    public static TimeSpan Parse(string text)
    {
        if (TryParse(text, out var value))
        {
            return value;
        }
        throw new FormatException($"'{text}' is not a duration (expected a Go duration such as 500ms, 5s or 1h30m)");
    }

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0)
        {
            return false;
        }
        if (text == "0")
        {
            return true;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }
        var negative = text.StartsWith('-');
        var body = negative ? text[1..] : text;
        var consumed = 0;
        double ticks = 0;
        foreach (Match m in GoPart().Matches(body))
        {
            if (m.Index != consumed)
            {
                return false;
            }
            consumed += m.Length;
            var n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            ticks += m.Groups["u"].Value switch
            {
                "ns" => n / 100,
                "us" or "µs" => n * 10,
                "ms" => n * TimeSpan.TicksPerMillisecond,
                "s" => n * TimeSpan.TicksPerSecond,
                "m" => n * TimeSpan.TicksPerMinute,
                _ => n * TimeSpan.TicksPerHour,
            };
        }
        if (consumed != body.Length)
        {
            return false;
        }
        value = TimeSpan.FromTicks((long)(negative ? -ticks : ticks));
        return true;
    }
}
