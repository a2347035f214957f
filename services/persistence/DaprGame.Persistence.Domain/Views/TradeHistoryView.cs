using System.Collections.Immutable;
using System.Text.Json;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Domain.Views;

/// <summary>One fill from one player's side.</summary>
public sealed record TradeEntry(string FillId, string Instrument, string Side, long Price, long Quantity, string Counterparty, DateTimeOffset At);

/// <summary>Per player, the fills they were in (as buyer or seller), in log order, from <c>trading.fill.v1</c>.</summary>
public sealed class TradeHistoryView : View
{
    public const string Fill = "trading.fill.v1";

    private readonly SortedDictionary<string, ImmutableList<TradeEntry>> _trades = new(StringComparer.Ordinal);

    public TradeHistoryView()
    {
    }

    /// <summary>A view holding <paramref name="state"/>, as read back from a stored snapshot's <see cref="State"/>.</summary>
    public TradeHistoryView(IEnumerable<KeyValuePair<string, ImmutableList<TradeEntry>>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (key, value) in state)
        {
            _trades[key] = value;
        }
    }

    /// <summary>The whole state (trades per player), for the host to serialise; values are immutable.</summary>
    public IReadOnlyDictionary<string, ImmutableList<TradeEntry>> State => _trades;

    public override string Name => "trade-history";

    public IReadOnlyList<TradeEntry> For(string playerId) => _trades.GetValueOrDefault(playerId) ?? [];

    public override bool Handles(string eventType) => eventType == Fill;

    public override void Apply(LogRecord record, JsonElement data)
    {
        var fill = FillData.Read(data);
        Add(fill.BuyerId, new TradeEntry(fill.FillId, fill.Instrument, "buy", fill.Price, fill.Quantity, fill.SellerId, record.OccurredAt));
        Add(fill.SellerId, new TradeEntry(fill.FillId, fill.Instrument, "sell", fill.Price, fill.Quantity, fill.BuyerId, record.OccurredAt));
    }

    public override void Clear() => _trades.Clear();

    public override View Clone() => new TradeHistoryView(_trades);

    protected override void WriteContent(ContentHasher hasher)
    {
        foreach (var (player, trades) in _trades)
        {
            hasher.Add(player).Add(trades.Count);
            foreach (var t in trades)
            {
                hasher.Add(t.FillId).Add(t.Instrument).Add(t.Side).Add(t.Price).Add(t.Quantity).Add(t.Counterparty).Add(t.At);
            }
        }
    }

    private void Add(string playerId, TradeEntry entry) => _trades[playerId] = (_trades.GetValueOrDefault(playerId) ?? []).Add(entry);
}

/// <summary>The parts of <c>trading.fill.v1</c> the views use.</summary>
internal sealed record FillData(string FillId, string Instrument, string BuyerId, string SellerId, long Price, long Quantity)
{
    public static FillData Read(JsonElement data) => new(
        JsonFields.String(data, "fillId"), JsonFields.String(data, "instrument"), JsonFields.String(data, "buyerId"),
        JsonFields.String(data, "sellerId"), JsonFields.Long(data, "price"), JsonFields.Long(data, "quantity"));
}
