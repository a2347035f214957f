using System.Globalization;

namespace DaprGame.Sidecar.Components;

/// <summary>
/// Read-only navigation over the untyped graph YamlDotNet produces (maps, lists, scalars), with errors that name
/// the path inside the file. Keys are matched case-insensitively, as Go's YAML-to-JSON decoding in daprd does.
/// </summary>
internal readonly struct YamlNode(object? value, string path)
{
    public object? Value { get; } = value;

    public string Path { get; } = path;

    public bool IsMissing => Value is null;

    public bool IsMap => Value is IDictionary<object, object>;

    public bool IsList => Value is IList<object>;

    public YamlNode this[string key]
    {
        get
        {
            var childPath = Path.Length == 0 ? key : $"{Path}.{key}";
            if (Value is IDictionary<object, object> map)
            {
                foreach (var (k, v) in map)
                {
                    if (string.Equals(k?.ToString(), key, StringComparison.OrdinalIgnoreCase))
                    {
                        return new YamlNode(v, childPath);
                    }
                }
            }
            return new YamlNode(null, childPath);
        }
    }

    public IEnumerable<YamlNode> Items()
    {
        if (Value is IList<object> list)
        {
            for (var i = 0; i < list.Count; i++)
            {
                yield return new YamlNode(list[i], $"{Path}[{i}]");
            }
        }
        else if (Value is not null)
        {
            throw new FormatException($"'{Path}' must be a list");
        }
    }

    public IEnumerable<(string Key, YamlNode Node)> Entries()
    {
        if (Value is IDictionary<object, object> map)
        {
            foreach (var (k, v) in map)
            {
                var key = k?.ToString() ?? "";
                yield return (key, new YamlNode(v, Path.Length == 0 ? key : $"{Path}.{key}"));
            }
        }
        else if (Value is not null)
        {
            throw new FormatException($"'{Path}' must be a map");
        }
    }

    public string? AsString() => Value switch
    {
        null => null,
        string s => s,
        IDictionary<object, object> or IList<object> => throw new FormatException($"'{Path}' must be a scalar"),
        var other => Convert.ToString(other, CultureInfo.InvariantCulture),
    };

    public string Required()
    {
        var s = AsString();
        if (string.IsNullOrWhiteSpace(s))
        {
            throw new FormatException($"'{Path}' is required");
        }
        return s;
    }

    public int? AsInt()
    {
        var s = AsString();
        if (s is null)
        {
            return null;
        }
        return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new FormatException($"'{Path}' must be an integer, not '{s}'");
    }

    public bool? AsBool()
    {
        var s = AsString();
        if (s is null)
        {
            return null;
        }
        return bool.TryParse(s, out var b) ? b : throw new FormatException($"'{Path}' must be true or false, not '{s}'");
    }

    public TimeSpan? AsDuration()
    {
        var s = AsString();
        if (s is null)
        {
            return null;
        }
        return DurationParser.TryParse(s, out var d) ? d : throw new FormatException($"'{Path}' must be a duration, not '{s}'");
    }

    public IReadOnlyList<string> AsStringList() => [.. Items().Select(i => i.AsString() ?? "")];
}
