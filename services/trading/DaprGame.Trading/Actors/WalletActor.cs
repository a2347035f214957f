using Dapr.Actors.Runtime;
using DaprGame.Contracts.Trading;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;

namespace DaprGame.Trading.Actors;

/// <summary>
/// One player's wallet: the single owner of its <see cref="Wallet"/>. A turn applies one call and, when it changed
/// something, saves the whole wallet in one write before answering — so an acknowledged change is durable, and a
/// retried call with the same key finds it and answers the same.
/// </summary>
[Actor(TypeName = TradingActorClient.WalletType)]
public sealed class WalletActor(ActorHost host, TimeProvider time) : Actor(host), IWallet
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

    private async Task<Wallet> LoadAsync()
    {
        var stored = await StateManager.TryGetStateAsync<WalletState>(StateKey);
        return stored.HasValue ? Wallet.FromState(stored.Value) : Wallet.Open(PlayerId);
    }
}
