using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;

namespace DaprGame.Trading.Domain.Tests.Ledger;

/// <summary>
/// Deep value comparison of stored state shapes, without a serializer: public properties, lists in order, dictionaries
/// by key. The message names the first path that differs.
/// </summary>
internal static class StateAssert
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    public static void Equal(object? expected, object? actual)
    {
        var difference = Diff(expected, actual, "state");
        Assert.True(difference is null, difference);
    }

    public static bool AreEqual(object? expected, object? actual) => Diff(expected, actual, "state") is null;

    private static string? Diff(object? a, object? b, string path)
    {
        if (a is null || b is null)
        {
            return a is null && b is null ? null : $"{path}: {a ?? "null"} vs {b ?? "null"}";
        }
        var type = a.GetType();
        if (type != b.GetType())
        {
            return $"{path}: {type.Name} vs {b.GetType().Name}";
        }
        if (type.IsPrimitive || type.IsEnum || a is string or DateTimeOffset or DateTime or TimeSpan or decimal)
        {
            return a.Equals(b) ? null : $"{path}: {a} vs {b}";
        }
        if (a is IDictionary da)
        {
            var db = (IDictionary)b;
            if (da.Count != db.Count)
            {
                return $"{path}: {da.Count} entries vs {db.Count}";
            }
            foreach (var key in da.Keys)
            {
                if (!db.Contains(key))
                {
                    return $"{path}: key {key} missing";
                }
                if (Diff(da[key], db[key], $"{path}[{key}]") is { } d)
                {
                    return d;
                }
            }
            return null;
        }
        if (a is IList la)
        {
            var lb = (IList)b;
            if (la.Count != lb.Count)
            {
                return $"{path}: {la.Count} items vs {lb.Count}";
            }
            for (var i = 0; i < la.Count; i++)
            {
                if (Diff(la[i], lb[i], $"{path}[{i}]") is { } d)
                {
                    return d;
                }
            }
            return null;
        }
        foreach (var property in Properties.GetOrAdd(type, t => [.. t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0)]))
        {
            if (Diff(property.GetValue(a), property.GetValue(b), $"{path}.{property.Name}") is { } d)
            {
                return d;
            }
        }
        return null;
    }
}
