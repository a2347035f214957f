using System.Collections.Immutable;
using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>One minute of an instrument's fills: open/close are the first/last fill of the minute in log order.</summary>
public sealed record MinuteCandle(DateTimeOffset Start, long Open, long High, long Low, long Close, long Volume, long Trades);

/// <summary>Per instrument, 1-minute OHLCV candles from <c>trading.fill.v1</c>, bucketed by the fill's <c>occurredAt</c> (UTC).</summary>
public sealed class CandlesView : View
{
    private readonly SortedDictionary<string, ImmutableSortedDictionary<long, MinuteCandle>> _candles = new(StringComparer.Ordinal);

    public CandlesView()
    {
    }

    /// <summary>A view holding <paramref name="state"/>, as read back from a stored snapshot's <see cref="State"/>.</summary>
    public CandlesView(IEnumerable<KeyValuePair<string, ImmutableSortedDictionary<long, MinuteCandle>>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (key, value) in state)
        {
            _candles[key] = value;
        }
    }

    /// <summary>The whole state (candles per instrument), for the host to serialise; values are immutable.</summary>
    public IReadOnlyDictionary<string, ImmutableSortedDictionary<long, MinuteCandle>> State => _candles;

    public override string Name => "candles-1m";

    /// <summary>An instrument's candles, oldest first.</summary>
    public IReadOnlyList<MinuteCandle> For(string instrument) =>
        _candles.TryGetValue(instrument, out var candles) ? [.. candles.Values] : [];

    public override bool Handles(string eventType) => eventType == TradeHistoryView.Fill;

    public override void Apply(LogRecord record, JsonElement data)
    {
        var fill = FillData.Read(data);
        var minute = record.OccurredAt.ToUnixTimeSeconds() / 60;
        var candles = _candles.GetValueOrDefault(fill.Instrument) ?? ImmutableSortedDictionary<long, MinuteCandle>.Empty;
        var candle = candles.TryGetValue(minute, out var c)
            ? c with { High = Math.Max(c.High, fill.Price), Low = Math.Min(c.Low, fill.Price), Close = fill.Price, Volume = c.Volume + fill.Quantity, Trades = c.Trades + 1 }
            : new MinuteCandle(DateTimeOffset.FromUnixTimeSeconds(minute * 60), fill.Price, fill.Price, fill.Price, fill.Price, fill.Quantity, 1);
        _candles[fill.Instrument] = candles.SetItem(minute, candle);
    }

    public override void Clear() => _candles.Clear();

    public override View Clone() => new CandlesView(_candles);

    protected override void WriteContent(ContentHasher hasher)
    {
        foreach (var (instrument, candles) in _candles)
        {
            hasher.Add(instrument).Add(candles.Count);
            foreach (var (minute, c) in candles)
            {
                hasher.Add(minute).Add(c.Open).Add(c.High).Add(c.Low).Add(c.Close).Add(c.Volume).Add(c.Trades);
            }
        }
    }
}
