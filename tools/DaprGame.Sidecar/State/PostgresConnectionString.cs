using System.Text;
using Npgsql;

namespace DaprGame.Sidecar.State;

/// <summary>
/// Dapr's PostgreSQL components take a pgx/libpq connection string (<c>host=… port=… user=…</c> or a
/// <c>postgres://</c> URL); Npgsql wants <c>Host=…;Port=…</c>. This translates the libpq keywords Dapr's docs use,
/// passes an Npgsql-style string (one with <c>;</c>) through, and refuses unknown keywords by name so a typo is not
/// silently dropped.
/// </summary>
internal static class PostgresConnectionString
{
    private static readonly Dictionary<string, string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["host"] = "Host",
        ["hostaddr"] = "Host",
        ["port"] = "Port",
        ["dbname"] = "Database",
        ["database"] = "Database",
        ["user"] = "Username",
        ["password"] = "Password",
        ["sslmode"] = "SSL Mode",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["search_path"] = "Search Path",
        ["pool_max_conns"] = "Maximum Pool Size",
        ["pool_min_conns"] = "Minimum Pool Size",
    };

    public static string ToNpgsql(string raw)
    {
        raw = raw.Trim();
        var pairs = raw.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || raw.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            ? FromUrl(raw)
            : raw.Contains(';', StringComparison.Ordinal) ? null : FromKeywords(raw);
        if (pairs is null)
        {
            return raw;
        }
        var builder = new NpgsqlConnectionStringBuilder();
        foreach (var (key, value) in pairs)
        {
            if (key.StartsWith("pool_", StringComparison.OrdinalIgnoreCase) && !Keywords.ContainsKey(key))
            {
                // pgx pool tuning (health checks, lifetimes) has no Npgsql twin and does not change behaviour.
                continue;
            }
            if (!Keywords.TryGetValue(key, out var npgsqlKey))
            {
                throw new InvalidOperationException($"connectionString keyword '{key}' is not supported by the local sidecar (supported: {string.Join(", ", Keywords.Keys)})");
            }
            builder[npgsqlKey] = npgsqlKey == "SSL Mode" ? SslMode(value) : value;
        }
        return builder.ConnectionString;
    }

    private static string SslMode(string value) => value.ToLowerInvariant() switch
    {
        "verify-ca" => "VerifyCA",
        "verify-full" => "VerifyFull",
        var other => other,
    };

    private static List<(string Key, string Value)> FromUrl(string raw)
    {
        var uri = new Uri(raw);
        var pairs = new List<(string, string)>();
        if (uri.Host.Length > 0)
        {
            pairs.Add(("host", uri.Host));
        }
        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            pairs.Add(("port", uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            pairs.Add(("user", Uri.UnescapeDataString(parts[0])));
            if (parts.Length == 2)
            {
                pairs.Add(("password", Uri.UnescapeDataString(parts[1])));
            }
        }
        if (uri.AbsolutePath.Trim('/') is { Length: > 0 } db)
        {
            pairs.Add(("dbname", Uri.UnescapeDataString(db)));
        }
        foreach (var part in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2);
            pairs.Add((Uri.UnescapeDataString(kv[0]), kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : ""));
        }
        return pairs;
    }

    /// <summary>libpq's <c>keyword = value</c> list: whitespace-separated, values optionally single-quoted with backslash escapes.</summary>
    private static List<(string Key, string Value)> FromKeywords(string raw)
    {
        var pairs = new List<(string, string)>();
        var i = 0;
        while (true)
        {
            while (i < raw.Length && char.IsWhiteSpace(raw[i]))
            {
                i++;
            }
            if (i >= raw.Length)
            {
                return pairs;
            }
            var start = i;
            while (i < raw.Length && raw[i] != '=' && !char.IsWhiteSpace(raw[i]))
            {
                i++;
            }
            var key = raw[start..i];
            while (i < raw.Length && char.IsWhiteSpace(raw[i]))
            {
                i++;
            }
            if (i >= raw.Length || raw[i] != '=')
            {
                throw new InvalidOperationException($"connectionString: expected '=' after '{key}'");
            }
            i++;
            while (i < raw.Length && char.IsWhiteSpace(raw[i]))
            {
                i++;
            }
            var value = new StringBuilder();
            var quoted = i < raw.Length && raw[i] == '\'';
            if (quoted)
            {
                i++;
            }
            while (i < raw.Length && (quoted ? raw[i] != '\'' : !char.IsWhiteSpace(raw[i])))
            {
                if (raw[i] == '\\' && i + 1 < raw.Length)
                {
                    i++;
                }
                value.Append(raw[i]);
                i++;
            }
            if (quoted)
            {
                if (i >= raw.Length)
                {
                    throw new InvalidOperationException($"connectionString: unterminated quoted value for '{key}'");
                }
                i++;
            }
            pairs.Add((key, value.ToString()));
        }
    }
}
