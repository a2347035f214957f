using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;

namespace DaprGame.Trading.Domain.Tests.Settlement;

/// <summary>The saga against real wallets: forward, retries, compensation in reverse, stuck, and resuming from saved state.</summary>
public sealed class SettlementSagaTests
{
    private static readonly DateTimeOffset At = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly FillTerms Terms = new("buyer", "seller", "h-buy", "h-sell", "GOLD", Price: 100, Quantity: 3, ItemType: "sword", Fee: 3, Instrument: "sword-GOLD");

    [Fact]
    public void A_fill_moves_currency_and_items_between_the_holds_and_burns_the_fee()
    {
        var wallets = Funded();
        var saga = SettlementSaga.ForFill("f1", Terms);

        Run(saga, wallets);

        Assert.Equal(SagaStatus.Settled, saga.Status);
        Assert.Equal(1_000 - 300, wallets["buyer"].Available("GOLD"));
        Assert.Equal(0, wallets["buyer"].Held("GOLD"));
        Assert.Equal(3, wallets["buyer"].AvailableItems("sword"));
        Assert.Equal(297, wallets["seller"].Available("GOLD"));
        Assert.Equal(0, wallets["seller"].HeldItems("sword"));
        Assert.Equal(4, saga.Attempts);
    }

    [Fact]
    public void A_step_refused_for_good_undoes_the_steps_done_in_reverse()
    {
        var wallets = Funded();
        var saga = SettlementSaga.ForFill("f2", Terms);

        Step(saga, wallets);                       // capture buyer currency
        Step(saga, wallets);                       // credit seller
        saga.Record(StepResult.Failed, At);        // capture seller items: refused
        Assert.Equal(SagaStatus.Compensating, saga.Status);
        Assert.Equal("settle:f2:2:undo", saga.Next()!.Key);
        Step(saga, wallets);
        Assert.Equal("settle:f2:1:undo", saga.Next()!.Key);
        Step(saga, wallets);

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Null(saga.Next());
        Assert.Equal(0, wallets["seller"].Available("GOLD"));
        // The buyer's captured 300 came back to available; the order's hold itself is the order book's to release.
        Assert.Equal(700 + 300, wallets["buyer"].Available("GOLD") + wallets["buyer"].Held("GOLD") - 0);
        Assert.Contains("step 3", saga.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Transient_failures_retry_the_same_call_and_turn_into_a_failure_after_the_limit()
    {
        var saga = SettlementSaga.ForFill("f3", Terms);
        var first = saga.Next();
        for (var i = 1; i < SettlementSaga.MaxRetries; i++)
        {
            saga.Record(StepResult.Retry, At);
            Assert.Equal(first, saga.Next());
        }
        saga.Record(StepResult.Retry, At);

        // Nothing was done forward, so nothing needs undoing.
        Assert.Equal(SagaStatus.Compensated, saga.Status);
    }

    [Fact]
    public void A_refused_compensation_leaves_the_saga_stuck_for_an_operator()
    {
        var saga = SettlementSaga.ForFill("f4", Terms);
        saga.Record(StepResult.Done, At);
        saga.Record(StepResult.Failed, At);
        saga.Record(StepResult.Retry, At);
        Assert.Equal(SagaStatus.Compensating, saga.Status);
        saga.Record(StepResult.Failed, At);

        Assert.Equal(SagaStatus.Stuck, saga.Status);
        Assert.Null(saga.Next());
    }

    [Fact]
    public void A_saga_restored_after_every_step_resumes_with_the_same_call_and_the_wallets_absorb_repeats()
    {
        var wallets = Funded();
        var saga = SettlementSaga.ForFill("f5", Terms);
        while (saga.Next() is { } call)
        {
            // The caller made the call, then "crashed" before recording it: the restored saga makes it again.
            Apply(wallets, call);
            saga = SettlementSaga.FromState(saga.ToState());
            Assert.Equal(call, saga.Next());
            var again = Apply(wallets, call);
            Assert.True(again.Replayed);
            saga.Record(StepResult.Done, At);
        }

        Assert.Equal(SagaStatus.Settled, saga.Status);
        Assert.Equal(700, wallets["buyer"].Available("GOLD"));
        Assert.Equal(297, wallets["seller"].Available("GOLD"));
    }

    [Fact]
    public void A_swap_moves_both_sides_and_skips_the_empty_one()
    {
        var wallets = Funded();
        var gives = AssetBundle.Currency("GOLD", 50);
        Assert.True(wallets["buyer"].Hold("t-hold-a", "t-a", gives, "trade", At).Ok);
        var saga = SettlementSaga.ForSwap("s1", new SwapTerms("buyer", "t-a", gives, "seller", "t-b", AssetBundle.Empty));

        Assert.Equal(2, saga.Steps.Count);
        Run(saga, wallets);

        Assert.Equal(SagaStatus.Settled, saga.Status);
        Assert.Equal(1_000 - 300 - 50, wallets["buyer"].Available("GOLD"));
        Assert.Equal(50, wallets["seller"].Available("GOLD"));
    }

    [Fact]
    public void Impossible_terms_are_refused_before_any_step()
    {
        Assert.Throws<ArgumentException>(() => SettlementSaga.ForFill("x", Terms with { SellerId = "buyer" }));
        Assert.Throws<ArgumentException>(() => SettlementSaga.ForFill("x", Terms with { Quantity = 0 }));
        Assert.Throws<ArgumentException>(() => SettlementSaga.ForFill("x", Terms with { Fee = 301 }));
        Assert.Throws<OverflowException>(() => SettlementSaga.ForFill("x", Terms with { Price = long.MaxValue }));
        Assert.Throws<ArgumentException>(() => SettlementSaga.ForSwap("x", new SwapTerms("a", "h", AssetBundle.Empty, "b", "h2", AssetBundle.Empty)));
    }

    private static Dictionary<string, Wallet> Funded()
    {
        var buyer = Wallet.Open("buyer");
        Assert.True(buyer.Credit("fund", AssetBundle.Currency("GOLD", 1_000), "fund", At).Ok);
        Assert.True(buyer.Hold("hold", "h-buy", AssetBundle.Currency("GOLD", 300), "order", At).Ok);
        var seller = Wallet.Open("seller");
        Assert.True(seller.Credit("fund", AssetBundle.Items("sword", 3), "fund", At).Ok);
        Assert.True(seller.Hold("hold", "h-sell", AssetBundle.Items("sword", 3), "order", At).Ok);
        return new() { ["buyer"] = buyer, ["seller"] = seller };
    }

    private static void Run(SettlementSaga saga, Dictionary<string, Wallet> wallets)
    {
        while (saga.Next() is not null)
        {
            Step(saga, wallets);
        }
    }

    private static void Step(SettlementSaga saga, Dictionary<string, Wallet> wallets)
    {
        var outcome = Apply(wallets, saga.Next()!);
        saga.Record(outcome.Ok ? StepResult.Done : StepResult.Failed, At);
    }

    private static LedgerOutcome Apply(Dictionary<string, Wallet> wallets, WalletCall call)
    {
        var w = wallets[call.PlayerId];
        return call.Op switch
        {
            WalletOp.Credit => w.Credit(call.Key, call.Assets, call.Reason, At),
            WalletOp.Debit => w.Debit(call.Key, call.Assets, call.Reason, At),
            WalletOp.Capture => w.Capture(call.Key, call.HoldId!, call.Assets, At),
            WalletOp.Hold => w.Hold(call.Key, call.HoldId!, call.Assets, call.Reason, At),
            _ => w.Release(call.Key, call.HoldId!, At),
        };
    }
}
