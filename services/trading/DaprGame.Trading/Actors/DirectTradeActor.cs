using Dapr.Actors.Runtime;
using DaprGame.Contracts.Trading;
using DaprGame.Trading.Domain.DirectTrades;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;
using DaprGame.Trading.Infrastructure;

namespace DaprGame.Trading.Actors;

/// <summary>What the DirectTrade actor saves.</summary>
public sealed class DirectTradeRecord
{
    public required DirectTradeState Trade { get; set; }

    public long EventSequence { get; set; }

    /// <summary>The swap settlement has accepted its start: nothing is left for this actor to drive.</summary>
    public bool SettlementRequested { get; set; }

    /// <summary>Events saved but not yet published (published after the save; again after a crash).</summary>
    public List<StoredEvent> Outbox { get; set; } = [];
}

/// <summary>
/// A direct trade between two players: propose → the counterparty accepts → both confirm → both sides are held
/// (escrow) → a swap settlement moves them. Until the settlement starts either party may cancel, and the deadline
/// expires it (a reminder); what was held is released.
/// </summary>
[Actor(TypeName = TradingActorClient.DirectTradeType)]
public sealed partial class DirectTradeActor(
    ActorHost host,
    TimeProvider time,
    TradingOptions options,
    TradingActorClient actors,
    ITradingPublisher publisher,
    ILogger<DirectTradeActor> logger) : Actor(host), IDirectTrade, IRemindable
{
    private const string StateKey = "trade";
    private const string ExpiryReminder = "expire";
    private const string ContinueReminder = "continue";

    private DirectTradeRecord? _record;
    private DirectTrade? _trade;

    private string TradeId => Id.GetId();

    private string SettlementId => "s-" + TradeId;

    protected override async Task OnActivateAsync()
    {
        var stored = await StateManager.TryGetStateAsync<DirectTradeRecord>(StateKey);
        if (stored.HasValue)
        {
            _record = stored.Value;
            _trade = DirectTrade.FromState(_record.Trade);
            await FlushAsync();
            await TryContinueAsync();
        }
    }

    public async Task<ActorReply<DirectTradeView>> ProposeAsync(ProposeCall call)
    {
        if (_trade is not null)
        {
            return _trade.Proposer == call.PlayerId ? Reply.Ok<DirectTradeView>(View())
                : Reply.Fail<DirectTradeView>(TradingErrorCodes.IdempotencyConflict, $"trade {TradeId} exists");
        }
        var p = call.Proposal;
        var ttl = p.ExpiresInSeconds is { } seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, 10, 86_400)) : options.TradeTtl;
        var now = time.GetUtcNow();
        DirectTrade trade;
        try
        {
            trade = DirectTrade.Propose(TradeId, call.PlayerId, p.CounterpartyId, Bundle(p.Gives), Bundle(p.Wants), now, ttl);
        }
        catch (ArgumentException invalid)
        {
            return Reply.Fail<DirectTradeView>(TradingErrorCodes.Invalid, invalid.Message);
        }
        _trade = trade;
        _record = new DirectTradeRecord { Trade = trade.ToState() };
        Emit("proposed", call.PlayerId, null);
        await SaveAsync();
        await RegisterReminderAsync(ExpiryReminder, null, ttl, TimeSpan.FromMilliseconds(-1));
        await FlushAsync();
        return Reply.Ok<DirectTradeView>(View());
    }

    public async Task<ActorReply<DirectTradeView>> ActAsync(TradeActionCall call)
    {
        if (_trade is not { } trade || !IsParty(call.PlayerId))
        {
            return Reply.Fail<DirectTradeView>(TradingErrorCodes.NotFound, $"no trade {TradeId} of yours");
        }
        var now = time.GetUtcNow();
        var mayHold = MayHold(trade);
        var result = call.Action switch
        {
            "accept" => trade.Accept(call.PlayerId, now),
            "confirm" => trade.Confirm(call.PlayerId, now),
            "cancel" => trade.Cancel(call.PlayerId, now),
            _ => null,
        };
        if (result is null)
        {
            return Reply.Fail<DirectTradeView>(TradingErrorCodes.Invalid, "action is accept, confirm or cancel");
        }
        if (!result.Ok)
        {
            return Reply.Fail<DirectTradeView>(
                result.Error == TradeError.Expired ? TradingErrorCodes.Expired : TradingErrorCodes.WrongState, result.Message ?? result.Error.ToString());
        }
        Emit(call.Action switch { "accept" => "accepted", "confirm" => "confirmed", _ => "cancelled" }, call.PlayerId, null);
        await SaveAsync();
        if (call.Action == "cancel" && mayHold)
        {
            await ReleaseHoldsAsync();
        }
        await FlushAsync();
        await TryContinueAsync();
        return Reply.Ok<DirectTradeView>(View());
    }

    public Task<ActorReply<DirectTradeView>> ViewAsync(PlayerCall call) =>
        Task.FromResult(_trade is not null && IsParty(call.PlayerId)
            ? Reply.Ok<DirectTradeView>(View())
            : Reply.Fail<DirectTradeView>(TradingErrorCodes.NotFound, $"no trade {TradeId} of yours"));

    public async Task SettlementFinishedAsync(SettlementFinished finished)
    {
        if (_trade is not { } trade || trade.Status != TradeStatus.Settling)
        {
            return;
        }
        trade.Finished(finished.Settled, finished.Reason);
        Emit(finished.Settled ? "completed" : "failed", "system", finished.Reason);
        await SaveAsync();
        // A settled swap captured both holds whole (they closed); a compensated one gave the captures back: what is
        // left of either hold goes back to its owner.
        await ReleaseHoldsAsync();
        await FlushAsync();
        await UnregisterReminderAsync(ExpiryReminder);
    }

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        if (_trade is not { } trade)
        {
            return;
        }
        if (reminderName == ContinueReminder)
        {
            await ContinueAsync();
            return;
        }
        var mayHold = MayHold(trade);
        if (trade.Expire(time.GetUtcNow()))
        {
            Emit("expired", "system", null);
            await SaveAsync();
            if (mayHold)
            {
                await ReleaseHoldsAsync();
            }
            await FlushAsync();
        }
    }

    /// <summary>Moves the trade on from a state that needs no player: escrow once both confirmed, then the settlement.</summary>
    /// <summary>Continues now if it can; a failure is left to the <c>continue</c> reminder, and the player's request still succeeds.</summary>
    private async Task TryContinueAsync()
    {
        try
        {
            await ContinueAsync();
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogContinueFailed(error, TradeId);
        }
    }

    /// <summary>
    /// Moves the trade on from a state that needs no player. Every step is keyed, so it may run again: a
    /// <c>continue</c> reminder re-runs it every <c>Trading:SettlementRetry</c> from the moment both confirmed until
    /// the settlement accepted its start (or the trade ended), so a wallet or settlement that did not answer — a
    /// replica lost mid-turn — does not leave the trade held forever.
    /// </summary>
    private async Task ContinueAsync()
    {
        var trade = _trade!;
        if (trade.IsFinished || _record!.SettlementRequested || !(trade.ReadyToEscrow || trade.Status is TradeStatus.Escrowed or TradeStatus.Settling))
        {
            if (trade.IsFinished || _record!.SettlementRequested)
            {
                await UnregisterReminderAsync(ContinueReminder);
            }
            return;
        }
        await RegisterReminderAsync(ContinueReminder, null, options.SettlementRetry, options.SettlementRetry);
        if (trade.Status == TradeStatus.Accepted && trade.ReadyToEscrow)
        {
            var a = await HoldAsync(trade.Proposer, trade.Gives(trade.Proposer));
            var b = a.Ok ? await HoldAsync(trade.Counterparty, trade.Gives(trade.Counterparty)) : a;
            if (!a.Ok || !b.Ok)
            {
                var failed = !a.Ok ? a : b;
                trade.Finished(false, $"escrow refused: {failed.Error} {failed.Message}");
                Emit("failed", "system", trade.FailureReason);
                await SaveAsync();
                await ReleaseHoldsAsync();
                await FlushAsync();
                return;
            }
            trade.Escrowed();
            await SaveAsync();
        }
        if (trade.Status == TradeStatus.Escrowed)
        {
            trade.SettlementStarted(SettlementId);
            await SaveAsync();
        }
        if (trade.Status == TradeStatus.Settling)
        {
            var terms = new SwapTerms(trade.Proposer, trade.HoldIdFor(trade.Proposer), trade.Gives(trade.Proposer), trade.Counterparty, trade.HoldIdFor(trade.Counterparty), trade.Gives(trade.Counterparty));
            await actors.CallAsync<SettlementStart, SettlementView>(TradingActorClient.SettlementType, SettlementId, nameof(ISettlement.StartAsync),
                new SettlementStart(SettlementId, null, terms, TradingActorClient.DirectTradeType, TradeId));
            _record!.SettlementRequested = true;
            await SaveAsync();
            await UnregisterReminderAsync(ContinueReminder);
        }
        else if (trade.IsFinished)
        {
            await UnregisterReminderAsync(ContinueReminder);
        }
    }

    /// <summary>
    /// Escrowed, or confirmed by both with the escrow not finished: a turn that held one side and then got no answer
    /// for the other leaves the trade accepted with one side held, so ending it must release what is there.
    /// </summary>
    private static bool MayHold(DirectTrade trade) => trade.Status == TradeStatus.Escrowed || trade.ReadyToEscrow;

    private Task<LedgerOutcome> HoldAsync(string playerId, AssetBundle gives) => gives.IsEmpty
        ? Task.FromResult(new LedgerOutcome(LedgerError.None, null, false, 0))
        : Wallet(new WalletCall(playerId, WalletOp.Hold, _trade!.HoldIdFor(playerId) + ":hold", _trade.HoldIdFor(playerId), gives, $"trade {TradeId}"));

    private async Task ReleaseHoldsAsync()
    {
        foreach (var player in new[] { _trade!.Proposer, _trade.Counterparty })
        {
            var holdId = _trade.HoldIdFor(player);
            var outcome = await Wallet(new WalletCall(player, WalletOp.Release, holdId + ":release", holdId, new AssetBundle(), $"trade {TradeId} ended"));
            if (!outcome.Ok && outcome.Error is not (LedgerError.UnknownHold or LedgerError.HoldClosed))
            {
                LogReleaseRefused(TradeId, player, outcome.Error);
            }
        }
    }

    private Task<LedgerOutcome> Wallet(WalletCall call) =>
        actors.CallAsync<WalletCall, LedgerOutcome>(TradingActorClient.WalletType, call.PlayerId, nameof(IWallet.ApplyAsync), call);

    private bool IsParty(string playerId) => _trade is { } t && (t.Proposer == playerId || t.Counterparty == playerId);

    private void Emit(string status, string actorId, string? reason)
    {
        var record = _record!;
        var stream = "trading/trade/" + TradeId;
        record.EventSequence++;
        record.Outbox.Add(StoredEvent.Of(new TradingTradeChanged
        {
            Id = $"{stream}:{record.EventSequence}", OccurredAt = time.GetUtcNow(), StreamId = stream, Sequence = record.EventSequence,
            TradeId = TradeId, Status = status, ProposerId = _trade!.Proposer, CounterpartyId = _trade.Counterparty, ActorId = actorId, Reason = reason,
        }));
    }

    private async Task SaveAsync()
    {
        _record!.Trade = _trade!.ToState();
        await StateManager.SetStateAsync(StateKey, _record);
        await StateManager.SaveStateAsync();
    }

    private async Task FlushAsync()
    {
        var record = _record!;
        var sent = 0;
        foreach (var e in record.Outbox)
        {
            try
            {
                await publisher.PublishAsync(e, CancellationToken.None);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogPublishFailed(error, TradeId);
                break;
            }
            sent++;
        }
        if (sent > 0)
        {
            record.Outbox.RemoveRange(0, sent);
            await SaveAsync();
        }
    }

    private DirectTradeView View()
    {
        var t = _trade!;
        var s = t.ToState();
        return new DirectTradeView(TradeId, t.Proposer, t.Counterparty, ToAssets(t.Gives(t.Proposer)), ToAssets(t.Gives(t.Counterparty)),
            t.Status.ToString().ToLowerInvariant(), s.ProposerConfirmed, s.CounterpartyConfirmed, s.ExpiresAt, t.SettlementId, t.FailureReason ?? (s.CancelledBy is { } by ? "cancelled by " + by : null));
    }

    internal static AssetBundle Bundle(Assets? a) => a is null ? new AssetBundle()
        : new AssetBundle { Currencies = new(a.Currencies ?? []), Stacks = new(a.Stacks ?? []), Instances = [.. a.Instances ?? []] };

    internal static Assets ToAssets(AssetBundle b) =>
        new() { Currencies = new(b.Currencies), Stacks = new(b.Stacks), Instances = [.. b.Instances] };

    [LoggerMessage(Level = LogLevel.Error, Message = "trade {TradeId}: release of {PlayerId}'s hold refused: {Error}")]
    private partial void LogReleaseRefused(string tradeId, string playerId, LedgerError error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "trade {TradeId}: escrow or settlement start did not complete; the continue reminder retries it")]
    private partial void LogContinueFailed(Exception error, string tradeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "trade {TradeId}: publishing failed; retried on the next change or activation")]
    private partial void LogPublishFailed(Exception error, string tradeId);
}
