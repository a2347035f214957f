using System.Text;

namespace DaprGame.Trading.Domain.Ledger;

/// <summary>
/// What one command moves: currency amounts (code → minor units), counts of fungible item stacks (item type → count)
/// and unique item instances (by id). Every amount is positive and every instance is named once; <see cref="Validate"/>
/// says what is wrong otherwise. Equality compares contents: dictionary and instance order do not matter.
/// It is a plain JSON-friendly shape because it is stored inside wallet, saga and trade state.
/// </summary>
public sealed record AssetBundle
{
    /// <summary>Currency code (<c>[A-Z]{3,8}</c>) → minor units.</summary>
    public Dictionary<string, long> Currencies { get; init; } = [];

    /// <summary>Fungible item type (<c>[a-z0-9_.-]{1,64}</c>) → count.</summary>
    public Dictionary<string, long> Stacks { get; init; } = [];

    /// <summary>Unique item instance ids.</summary>
    public List<string> Instances { get; init; } = [];

    /// <summary>A new empty bundle.</summary>
    public static AssetBundle Empty => new();

    public static AssetBundle Currency(string code, long amount) => new() { Currencies = { [code] = amount } };

    public static AssetBundle Items(string itemType, long count) => new() { Stacks = { [itemType] = count } };

    public static AssetBundle Instance(params string[] ids) => new() { Instances = [.. ids] };

    /// <summary>True when the bundle moves nothing.</summary>
    public bool IsEmpty => (Currencies?.Count ?? 0) == 0 && (Stacks?.Count ?? 0) == 0 && (Instances?.Count ?? 0) == 0;

    /// <summary>A copy with <paramref name="amount"/> more of a currency.</summary>
    public AssetBundle WithCurrency(string code, long amount)
    {
        var copy = Copy();
        copy.Currencies[code] = checked(copy.Currencies.GetValueOrDefault(code) + amount);
        return copy;
    }

    /// <summary>A copy with <paramref name="count"/> more items of a type.</summary>
    public AssetBundle WithItems(string itemType, long count)
    {
        var copy = Copy();
        copy.Stacks[itemType] = checked(copy.Stacks.GetValueOrDefault(itemType) + count);
        return copy;
    }

    /// <summary>A copy with more instances.</summary>
    public AssetBundle WithInstances(params string[] ids)
    {
        var copy = Copy();
        copy.Instances.AddRange(ids);
        return copy;
    }

    /// <summary>A deep copy: the bundle's collections are mutable, so whoever keeps one keeps a copy.</summary>
    public AssetBundle Copy() => new()
    {
        Currencies = new Dictionary<string, long>(Currencies ?? [], StringComparer.Ordinal),
        Stacks = new Dictionary<string, long>(Stacks ?? [], StringComparer.Ordinal),
        Instances = [.. Instances ?? []],
    };

    /// <summary>
    /// <see cref="LedgerError.None"/> when every code and id is well formed and every amount positive; otherwise the
    /// first problem found: <see cref="LedgerError.InvalidKey"/> for a malformed code or id,
    /// <see cref="LedgerError.InvalidAmount"/> for an amount ≤ 0, a missing collection or an instance named twice.
    /// An empty bundle is valid here; commands that must move something refuse it themselves.
    /// </summary>
    public (LedgerError Error, string? Message) Validate()
    {
        if (Currencies is null || Stacks is null || Instances is null)
        {
            return (LedgerError.InvalidAmount, "a bundle needs its currencies, stacks and instances (empty is fine)");
        }
        foreach (var (code, amount) in Currencies)
        {
            if (!LedgerIds.IsValidCurrency(code))
            {
                return (LedgerError.InvalidKey, $"currency code '{code}' is not 3–8 of [A-Z]");
            }
            if (amount <= 0)
            {
                return (LedgerError.InvalidAmount, $"amount of {code} must be positive, was {amount}");
            }
        }
        foreach (var (itemType, count) in Stacks)
        {
            if (!LedgerIds.IsValidItemType(itemType))
            {
                return (LedgerError.InvalidKey, $"item type '{itemType}' is not 1–64 of [a-z0-9_.-]");
            }
            if (count <= 0)
            {
                return (LedgerError.InvalidAmount, $"count of {itemType} must be positive, was {count}");
            }
        }
        var seen = Instances.Count > 1 ? new HashSet<string>(StringComparer.Ordinal) : null;
        foreach (var id in Instances)
        {
            if (!LedgerIds.IsValidInstanceId(id))
            {
                return (LedgerError.InvalidKey, $"instance id '{id}' is not 1–128 of [A-Za-z0-9._:-]");
            }
            if (seen is not null && !seen.Add(id))
            {
                return (LedgerError.InvalidAmount, $"instance {id} is named twice");
            }
        }
        return (LedgerError.None, null);
    }

    public bool Equals(AssetBundle? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }
        return other is not null
            && SameEntries(Currencies, other.Currencies)
            && SameEntries(Stacks, other.Stacks)
            && Sorted(Instances).SequenceEqual(Sorted(other.Instances), StringComparer.Ordinal);
    }

    public override int GetHashCode()
    {
        // Order-independent: a sum of per-entry hashes.
        var hash = 0;
        foreach (var (code, amount) in Currencies ?? [])
        {
            hash = unchecked(hash + HashCode.Combine(1, code, amount));
        }
        foreach (var (itemType, count) in Stacks ?? [])
        {
            hash = unchecked(hash + HashCode.Combine(2, itemType, count));
        }
        foreach (var id in Instances ?? [])
        {
            hash = unchecked(hash + HashCode.Combine(3, id));
        }
        return hash;
    }

    /// <summary>For people: <c>{ GOLD 150, iron_ore ×3, #sword-7 }</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        parts.AddRange(Ordered(Currencies).Select(p => $"{p.Key} {p.Value}"));
        parts.AddRange(Ordered(Stacks).Select(p => $"{p.Key} ×{p.Value}"));
        parts.AddRange(Sorted(Instances).Select(id => "#" + id));
        return parts.Count == 0 ? "{ }" : "{ " + string.Join(", ", parts) + " }";
    }

    /// <summary>One canonical text per content (orders fixed), for fingerprints.</summary>
    internal string Canonical()
    {
        var text = new StringBuilder();
        foreach (var (code, amount) in Ordered(Currencies))
        {
            text.Append('c').Append(code).Append('=').Append(amount).Append(';');
        }
        foreach (var (itemType, count) in Ordered(Stacks))
        {
            text.Append('s').Append(itemType).Append('=').Append(count).Append(';');
        }
        foreach (var id in Sorted(Instances))
        {
            text.Append('i').Append(id).Append(';');
        }
        return text.ToString();
    }

    // Most bundles name one or two assets: skip the sort (and its allocations) when there is nothing to order.
    internal static IEnumerable<KeyValuePair<string, long>> Ordered(Dictionary<string, long>? entries) =>
        entries is null || entries.Count == 0 ? [] : entries.Count == 1 ? entries : entries.OrderBy(p => p.Key, StringComparer.Ordinal);

    internal static IEnumerable<string> Sorted(List<string>? ids) =>
        ids is null || ids.Count == 0 ? [] : ids.Count == 1 ? ids : ids.Order(StringComparer.Ordinal);

    private static bool SameEntries(Dictionary<string, long>? a, Dictionary<string, long>? b)
    {
        a ??= [];
        b ??= [];
        return a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);
    }
}
