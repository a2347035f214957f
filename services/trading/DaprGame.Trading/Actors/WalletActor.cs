using Dapr.Actors.Runtime;
using DaprGame.Contracts.Trading;
using DaprGame.Trading.Infrastructure;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;

namespace DaprGame.Trading.Actors;

/// <summary>
/// One player's wallet: the single owner of its <see cref="Wallet"/>. A turn applies one call and, when it changed
/// something, saves the whole wallet in one write before answering — so an acknowledged change is durable, and a
/// retried call with the same key finds it and answers the same. Each saved change is then published as
/// <c>trading.wallet.changed.v1</c> (best effort: the gateway pushes it to the player; a lost one shows as a gap in the
/// wallet's version, and the wallet itself stays the truth).
/// </summary>
[Actor(TypeName = TradingActorClient.WalletType)]
public sealed partial class WalletActor(ActorHost host, TimeProvider time, ITradingPublisher publisher, ILogger<WalletActor> logger) : Actor(host), IWallet
{
    private const string StateKey = "wallet";

    private Wallet _wallet = null!;

    private string PlayerId => Id.GetId();

    protected override async Task OnActivateAsync() => _wallet = await LoadAsync();

    public async Task<LedgerOutcome> ApplyAsync(WalletCall call)
    {
        if (call.PlayerId != PlayerId)
        {
            return new LedgerOutcome(LedgerError.InvalidKey, $"a call for {call.PlayerId} reached the wallet of {PlayerId}", false, 0);
        }
        // Apply honours a compensation's condition (OnlyIfApplied): it fences the original key when that never ran.
        var version = _wallet.Version;
        var lastEntry = _wallet.LastSequence;
        var outcome = _wallet.Apply(call, time.GetUtcNow());
        if (outcome.Ok && !outcome.Replayed)
        {
            try
            {
                await StateManager.SetStateAsync(StateKey, _wallet.ToState());
                await StateManager.SaveStateAsync();
            }
            catch
            {
                // Not saved, so not acknowledged: forget the change in memory too, and let the caller retry.
                _wallet = await LoadAsync();
                throw;
            }
            if (_wallet.Version != version)
            {
                await PublishChangeAsync(call.Key, lastEntry);
            }
        }
        return outcome;
    }

    public Task<WalletView> ViewAsync()
    {
        var b = _wallet.Balances();
        return Task.FromResult(new WalletView(
            PlayerId,
            [.. b.Currencies.Select(c => new Contracts.Trading.CurrencyBalance(c.Currency, c.Available, c.Held))],
            [.. b.Stacks.Select(s => new Contracts.Trading.StackBalance(s.ItemType, s.Available, s.Held))],
            [.. b.Instances.Select(i => new InstanceView(i.Id, i.Held))]));
    }

    public Task<List<LedgerEntryView>> EntriesAsync(EntriesCall call) =>
        Task.FromResult(_wallet.Entries(call.After, Math.Clamp(call.Limit, 1, 500))
            .Select(e => new LedgerEntryView(e.Sequence, e.Key, e.Kind.ToString().ToLowerInvariant(), e.Asset, e.DeltaAvailable, e.DeltaHeld,
                e.AvailableAfter, e.HeldAfter, e.HoldId, e.Reason, e.At))
            .ToList());

    private async Task PublishChangeAsync(string key, long afterEntry)
    {
        var stream = "trading/wallet/" + PlayerId;
        var entries = _wallet.Entries(afterEntry, int.MaxValue);
        var change = new TradingWalletChanged
        {
            Id = $"{stream}:{_wallet.Version}", OccurredAt = time.GetUtcNow(), StreamId = stream, Sequence = _wallet.Version,
            PlayerId = PlayerId, Key = key, FirstEntry = afterEntry + 1, LastEntry = _wallet.LastSequence,
            Entries = [.. entries.Select(e => new WalletEntryChange(e.Sequence, e.Kind.ToString().ToLowerInvariant(), e.Asset, e.DeltaAvailable, e.DeltaHeld,
                e.AvailableAfter, e.HeldAfter, e.HoldId))],
        };
        try
        {
            await publisher.PublishAsync(StoredEvent.Of(change), CancellationToken.None);
        }
        catch (Exception error)
        {
            LogPublishFailed(error, PlayerId, _wallet.Version);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "wallet {PlayerId}: change {Version} saved but its event was not published")]
    private partial void LogPublishFailed(Exception error, string playerId, long version);

    private async Task<Wallet> LoadAsync()
    {
        var stored = await StateManager.TryGetStateAsync<WalletState>(StateKey);
        return stored.HasValue ? Wallet.FromState(stored.Value) : Wallet.Open(PlayerId);
    }
}
