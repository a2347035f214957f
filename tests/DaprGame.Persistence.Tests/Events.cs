using DaprGame.Contracts;
using DaprGame.Contracts.Chat;
using DaprGame.Contracts.Combat;
using DaprGame.Contracts.Trading;

namespace DaprGame.Persistence.Tests;

/// <summary>Real integration events, as chat, trading and combat publish them.</summary>
internal static class Events
{
    public static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    public static Task PostAsync(this PersistenceRig rig, string channel, long offset, string sender, string text) =>
        rig.PublishAsync(Topics.Chat, ChatMessagePosted.EventType, Posted(channel, offset, sender, text));

    public static ChatMessagePosted Posted(string channel, long offset, string sender, string text) => new()
    {
        Id = $"{channel}:1:{offset}", OccurredAt = At.AddSeconds(offset), StreamId = "chat/" + channel, Sequence = offset,
        ChannelId = channel, Kind = ChannelKind.Room, Epoch = 1, Offset = offset, SenderId = sender, ClientMessageId = $"c-{offset}", Text = text,
    };

    public static Task FillAsync(this PersistenceRig rig, long sequence, string buyer, string seller, long price, long quantity) =>
        rig.PublishAsync(Topics.Trading, TradingFill.EventType, new TradingFill
        {
            Id = $"trading/book/iron-sword-GOLD:{sequence}", OccurredAt = At.AddSeconds(sequence), StreamId = "trading/book/iron-sword-GOLD",
            Sequence = sequence, Instrument = "iron-sword-GOLD", FillId = $"f-{sequence}", BuyerId = buyer, SellerId = seller,
            BuyOrderId = $"o-{buyer}", SellOrderId = $"o-{seller}", TakerSide = OrderSide.Buy, Price = price, Quantity = quantity, BookSequence = sequence,
        });

    public static Task WalletAsync(this PersistenceRig rig, string player, long version, long goldAfter) =>
        rig.PublishAsync(Topics.Trading, TradingWalletChanged.EventType, new TradingWalletChanged
        {
            Id = $"trading/wallet/{player}:{version}", OccurredAt = At.AddSeconds(version), StreamId = "trading/wallet/" + player, Sequence = version,
            PlayerId = player, Key = $"k-{version}", FirstEntry = version, LastEntry = version,
            Entries = [new WalletEntryChange(version, "credit", "currency:GOLD", 10, 0, goldAfter, 0, null)],
        });

    public static Task MatchEndedAsync(this PersistenceRig rig, string matchId, string winner, string loser) =>
        rig.PublishAsync(Topics.Combat, CombatMatchEnded.EventType, new CombatMatchEnded
        {
            Id = $"combat/match/{matchId}:3", OccurredAt = At, StreamId = "combat/match/" + matchId, Sequence = 1,
            MatchId = matchId, Reason = "score_limit", Ticks = 900, FinalHash = "00ff",
            Players = [new CombatPlayerResult(winner, 0, 20, 20, 3, 2400), new CombatPlayerResult(loser, 1, 7, 7, 20, 900)],
            Winners = [winner],
        });
}
