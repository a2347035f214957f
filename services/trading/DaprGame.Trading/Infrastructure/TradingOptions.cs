using System.Text.RegularExpressions;

namespace DaprGame.Trading.Infrastructure;

/// <summary>An instrument: an item type priced in a currency. Its id is <c>{itemType}-{CURRENCY}</c>, for example <c>iron-sword-GOLD</c>.</summary>
public sealed partial record Instrument(string Id, string ItemType, string Currency)
{
    public static bool TryParse(string id, out Instrument instrument)
    {
        instrument = null!;
        var dash = id.LastIndexOf('-');
        if (dash <= 0 || dash == id.Length - 1)
        {
            return false;
        }
        var item = id[..dash];
        var currency = id[(dash + 1)..];
        if (!ItemTypePattern().IsMatch(item) || !CurrencyPattern().IsMatch(currency))
        {
            return false;
        }
        instrument = new Instrument(id, item, currency);
        return true;
    }

    [GeneratedRegex("^[a-z0-9_.-]{1,64}$")]
    public static partial Regex ItemTypePattern();

    [GeneratedRegex("^[A-Z]{3,8}$")]
    public static partial Regex CurrencyPattern();
}

/// <summary>
/// The <c>Trading</c> configuration section: <c>Instruments</c> (ids <c>{itemType}-{CURRENCY}</c>; default
/// <c>iron-sword-GOLD</c>, <c>health-potion-GOLD</c>, <c>dragon-scale-GEM</c>), <c>FeeBasisPoints</c> (100 = 1 % of the
/// seller's proceeds, a currency sink), <c>MaxPrice</c> / <c>MaxQuantity</c> per order (1,000,000,000 / 1,000,000),
/// <c>TrustedCallers</c> (apps whose player header is believed: gateway), <c>GrantCallers</c> (apps that may grant:
/// combat, gateway), <c>TradeTtl</c> (direct trade default lifetime, 00:05:00), <c>SettlementRetry</c> (00:00:05),
/// <c>MaxOrderLifetime</c> (the furthest a good-till-date order may expire, 30.00:00:00).
/// </summary>
public sealed class TradingOptions
{
    public static readonly string[] DefaultInstruments = ["iron-sword-GOLD", "health-potion-GOLD", "dragon-scale-GEM"];

    public required IReadOnlyDictionary<string, Instrument> Instruments { get; init; }

    public int FeeBasisPoints { get; init; } = 100;

    public long MaxPrice { get; init; } = 1_000_000_000;

    public long MaxQuantity { get; init; } = 1_000_000;

    public required IReadOnlySet<string> TrustedCallers { get; init; }

    public required IReadOnlySet<string> GrantCallers { get; init; }

    public TimeSpan TradeTtl { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan SettlementRetry { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxOrderLifetime { get; init; } = TimeSpan.FromDays(30);

    /// <summary>The fee on <paramref name="proceeds"/>, rounded down (a seller never pays more than the rate).</summary>
    public long FeeOn(long proceeds) => (long)((Int128)proceeds * FeeBasisPoints / 10_000);

    public static TradingOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Trading");
        var ids = section.GetSection("Instruments").Get<string[]>() is { Length: > 0 } configured ? configured : DefaultInstruments;
        var instruments = new Dictionary<string, Instrument>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (!Instrument.TryParse(id, out var instrument))
            {
                throw new InvalidOperationException($"Trading:Instruments: '{id}' is not {{itemType}}-{{CURRENCY}} (item [a-z0-9_.-]{{1,64}}, currency [A-Z]{{3,8}})");
            }
            instruments[id] = instrument;
        }
        var fee = section.GetValue("FeeBasisPoints", 100);
        if (fee is < 0 or > 10_000)
        {
            throw new InvalidOperationException("Trading:FeeBasisPoints must be 0-10000");
        }
        var options = new TradingOptions
        {
            Instruments = instruments,
            FeeBasisPoints = fee,
            MaxPrice = section.GetValue("MaxPrice", 1_000_000_000L),
            MaxQuantity = section.GetValue("MaxQuantity", 1_000_000L),
            TrustedCallers = Set(section, "TrustedCallers", [DaprGame.Contracts.AppIds.Gateway]),
            GrantCallers = Set(section, "GrantCallers", [DaprGame.Contracts.AppIds.Combat, DaprGame.Contracts.AppIds.Gateway]),
            TradeTtl = section.GetValue("TradeTtl", TimeSpan.FromMinutes(5)),
            SettlementRetry = section.GetValue("SettlementRetry", TimeSpan.FromSeconds(5)),
            MaxOrderLifetime = section.GetValue("MaxOrderLifetime", TimeSpan.FromDays(30)),
        };
        if (options.MaxPrice <= 0 || options.MaxQuantity <= 0 || options.TradeTtl <= TimeSpan.Zero || options.SettlementRetry <= TimeSpan.Zero
            || options.MaxOrderLifetime <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Trading:MaxPrice, MaxQuantity, TradeTtl, SettlementRetry and MaxOrderLifetime must be above 0");
        }
        return options;
    }

    private static HashSet<string> Set(IConfigurationSection section, string key, string[] fallback) =>
        (section.GetSection(key).Get<string[]>() is { Length: > 0 } configured ? configured : fallback).ToHashSet(StringComparer.Ordinal);
}
