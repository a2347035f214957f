using System.Text.RegularExpressions;

namespace DaprGame.Chat.Domain.Moderation;

/// <summary>What the content filter does with a message containing a blocked word.</summary>
public enum FilterMode
{
    /// <summary>Replace each blocked word with <c>***</c> and post the result.</summary>
    Mask,

    /// <summary>Refuse the message.</summary>
    Reject,
}

/// <summary>
/// Pre-publish blocklist: whole words, case-insensitive. Runs before a message is stored, so nothing blocked ever
/// reaches the stream.
/// </summary>
public sealed class ContentFilter
{
    public const string Mask = "***";

    private readonly Regex? _pattern;

    public ContentFilter(IEnumerable<string> blocklist, FilterMode mode)
    {
        Mode = mode;
        var words = blocklist.Select(w => w.Trim()).Where(w => w.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (words.Count > 0)
        {
            // Longest first so "badword" wins over "bad"; \b on both sides keeps "class" clean of "ass".
            var alternatives = string.Join('|', words.OrderByDescending(w => w.Length).Select(Regex.Escape));
            _pattern = new Regex($@"\b(?:{alternatives})\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(200));
        }
    }

    public static ContentFilter None { get; } = new([], FilterMode.Mask);

    public FilterMode Mode { get; }

    /// <summary>Checks <paramref name="text"/>: whether it holds a blocked word, and the masked text.</summary>
    public FilterResult Apply(string text)
    {
        if (_pattern is null || !_pattern.IsMatch(text))
        {
            return new FilterResult(false, text);
        }
        return new FilterResult(true, _pattern.Replace(text, Mask));
    }
}

/// <summary>Whether the text held a blocked word, and the text with each one masked.</summary>
public readonly record struct FilterResult(bool Matched, string MaskedText);
