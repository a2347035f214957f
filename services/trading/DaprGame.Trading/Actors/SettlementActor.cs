using Dapr.Actors.Runtime;
using DaprGame.Contracts.Trading;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;
using DaprGame.Trading.Infrastructure;

namespace DaprGame.Trading.Actors;

/// <summary>What the Settlement actor saves: the saga and what to tell whom when it ends.</summary>
public sealed class SettlementRecord
{
    public required SettlementState Saga { get; set; }

    public required string Kind { get; set; }

    public required List<string> Parties { get; set; }

    public long Fee { get; set; }

    public string? FeeCurrency { get; set; }

    public string? NotifyType { get; set; }

    public string? NotifyId { get; set; }

    /// <summary>The end was published and the originator told: nothing is left to do.</summary>
    public bool Reported { get; set; }
}

/// <summary>
/// One settlement: runs its <see cref="SettlementSaga"/> one wallet call at a time, saving after each, so a kill at
/// any step resumes at the same call with the same idempotency key (the wallet answers a repeat with the first
/// outcome). A reminder drives it — right after the start and then every <c>Trading:SettlementRetry</c> until it ends —
/// so it survives the process, and a transient failure just waits for the next tick.
/// </summary>
[Actor(TypeName = TradingActorClient.SettlementType)]
public sealed partial class SettlementActor(
    ActorHost host,
    TimeProvider time,
    TradingOptions options,
    TradingActorClient actors,
    ITradingPublisher publisher,
    ILogger<SettlementActor> logger) : Actor(host), ISettlement, IRemindable
{
    private const string StateKey = "settlement";
    private const string DriveReminder = "drive";

    private SettlementRecord? _record;
    private SettlementSaga? _saga;

    protected override async Task OnActivateAsync()
    {
        var stored = await StateManager.TryGetStateAsync<SettlementRecord>(StateKey);
        if (stored.HasValue)
        {
            _record = stored.Value;
            _saga = SettlementSaga.FromState(_record.Saga);
        }
    }

    public async Task<SettlementView> StartAsync(SettlementStart start)
    {
        if (_record is not null)
        {
            return View();
        }
        if (start.Fill is { } fill)
        {
            _saga = SettlementSaga.ForFill(Id.GetId(), fill);
            _record = new SettlementRecord
            {
                Saga = _saga.ToState(), Kind = "fill", Parties = [fill.BuyerId, fill.SellerId], Fee = fill.Fee, FeeCurrency = fill.Currency,
                NotifyType = start.NotifyType, NotifyId = start.NotifyId,
            };
        }
        else if (start.Swap is { } swap)
        {
            _saga = SettlementSaga.ForSwap(Id.GetId(), swap);
            _record = new SettlementRecord
            {
                Saga = _saga.ToState(), Kind = "swap", Parties = [swap.PlayerA, swap.PlayerB], NotifyType = start.NotifyType, NotifyId = start.NotifyId,
            };
        }
        else
        {
            throw new ArgumentException("a settlement starts from a fill or a swap", nameof(start));
        }
        await StateManager.SetStateAsync(StateKey, _record);
        await StateManager.SaveStateAsync();
        await RegisterReminderAsync(DriveReminder, null, TimeSpan.FromMilliseconds(10), options.SettlementRetry);
        return View();
    }

    public Task<SettlementView?> ViewAsync() => Task.FromResult(_record is null ? null : View());

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        if (_saga is null || _record is null)
        {
            await UnregisterReminderAsync(reminderName);
            return;
        }
        await DriveAsync();
    }

    private async Task DriveAsync()
    {
        var saga = _saga!;
        while (saga.Next() is { } call)
        {
            StepResult result;
            try
            {
                var outcome = await actors.CallAsync<WalletCall, LedgerOutcome>(TradingActorClient.WalletType, call.PlayerId, nameof(IWallet.ApplyAsync), call);
                result = outcome.Ok ? StepResult.Done : StepResult.Failed;
                if (!outcome.Ok)
                {
                    LogStepRefused(Id.GetId(), call.Key, outcome.Error, outcome.Message);
                }
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // The wallet did not answer: try again on the next tick (the same key, so at most one effect).
                LogStepRetry(error, Id.GetId(), call.Key);
                saga.Record(StepResult.Retry, time.GetUtcNow());
                await SaveAsync();
                return;
            }
            saga.Record(result, time.GetUtcNow());
            await SaveAsync();
        }
        await ReportAsync();
    }

    /// <summary>The saga ended (settled, compensated or stuck): publish it, tell the originator, stop the reminder.</summary>
    private async Task ReportAsync()
    {
        var record = _record!;
        var saga = _saga!;
        if (record.Reported || saga.Status is SagaStatus.Pending or SagaStatus.Compensating)
        {
            return;
        }
        if (saga.Status == SagaStatus.Stuck)
        {
            LogStuck(Id.GetId(), saga.FailureReason);
        }
        var stream = "trading/settlement/" + Id.GetId();
        var settled = saga.Status == SagaStatus.Settled;
        Contracts.IntegrationEvent evt = settled
            ? new TradingSettlementCompleted
            {
                Id = stream + ":completed", OccurredAt = time.GetUtcNow(), StreamId = stream, Sequence = 1,
                SettlementId = Id.GetId(), Kind = record.Kind, Parties = record.Parties, Fee = record.Fee, FeeCurrency = record.FeeCurrency,
            }
            : new TradingSettlementCompensated
            {
                Id = stream + ":compensated", OccurredAt = time.GetUtcNow(), StreamId = stream, Sequence = 1,
                SettlementId = Id.GetId(), Kind = record.Kind, Parties = record.Parties, Reason = saga.FailureReason ?? saga.Status.ToString(),
            };
        await publisher.PublishAsync(StoredEvent.Of(evt), CancellationToken.None);
        if (record.NotifyType is { } type && record.NotifyId is { } id)
        {
            await actors.CallAsync(type, id, nameof(IDirectTrade.SettlementFinishedAsync), new SettlementFinished(Id.GetId(), settled, saga.FailureReason));
        }
        record.Reported = true;
        await SaveAsync();
        await UnregisterReminderAsync(DriveReminder);
    }

    private async Task SaveAsync()
    {
        _record!.Saga = _saga!.ToState();
        await StateManager.SetStateAsync(StateKey, _record);
        await StateManager.SaveStateAsync();
    }

    private SettlementView View()
    {
        var saga = _saga!;
        var record = _record!;
        var status = saga.Status switch
        {
            SagaStatus.Pending => "pending",
            SagaStatus.Settled => "settled",
            SagaStatus.Compensating => "compensating",
            SagaStatus.Compensated => "compensated",
            _ => "stuck",
        };
        return new SettlementView(Id.GetId(), record.Kind, status, record.Parties, saga.Log.Count(l => !l.Compensation && l.Result == StepResult.Done), saga.TotalAttempts, saga.FailureReason, record.Fee, record.FeeCurrency);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "settlement {SettlementId}: step {Key} refused ({Error}: {Detail}); compensating")]
    private partial void LogStepRefused(string settlementId, string key, LedgerError error, string? detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "settlement {SettlementId}: step {Key} did not complete; retrying on the next tick")]
    private partial void LogStepRetry(Exception error, string settlementId, string key);

    [LoggerMessage(Level = LogLevel.Critical, Message = "settlement {SettlementId} is stuck (a compensation failed for good: {Reason}); an operator must resolve it")]
    private partial void LogStuck(string settlementId, string? reason);
}
