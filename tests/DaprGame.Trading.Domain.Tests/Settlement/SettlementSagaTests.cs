using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;
using DaprGame.Trading.Domain.Tests.Ledger;

namespace DaprGame.Trading.Domain.Tests.Settlement;

public sealed class SettlementSagaTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly FillTerms Fill = new(
        BuyerId: "bob",
        SellerId: "sue",
        BuyerHoldId: "order:b1",
        SellerHoldId: "order:s1",
        Currency: "GOLD",
        Price: 25,
        Quantity: 4,
        ItemType: "iron_ore",
        Fee: 3,
        Instrument: "iron_ore/GOLD");

    /// <summary>The two wallets of <see cref="Fill"/>, each with its side of the order held, as the order book leaves them.</summary>
    private static Dictionary<string, Wallet> FillWallets()
    {
        var bob = Wallet.Open("bob");
        Assert.True(bob.Credit("seed", AssetBundle.Currency("GOLD", 1_000), "seed", T0).Ok);
        Assert.True(bob.Hold("place-b1", "order:b1", AssetBundle.Currency("GOLD", 150), "buy order b1", T0).Ok);
        var sue = Wallet.Open("sue");
        Assert.True(sue.Credit("seed", AssetBundle.Currency("GOLD", 10).WithItems("iron_ore", 10), "seed", T0).Ok);
        Assert.True(sue.Hold("place-s1", "order:s1", AssetBundle.Items("iron_ore", 6), "sell order s1", T0).Ok);
        return new(StringComparer.Ordinal) { ["bob"] = bob, ["sue"] = sue };
    }

    /// <summary>
    /// A host: Next → apply on the wallet → Record, until finished. <paramref name="fault"/> may replace a call's result
    /// (applied or not) to inject lost answers and refusals; it sees the call and its attempt number.
    /// </summary>
    private static void Drive(SettlementSaga saga, Dictionary<string, Wallet> wallets, Func<WalletCall, int, (bool Apply, StepResult? Result)>? fault = null)
    {
        var at = T0;
        for (var guard = 0; guard < 1_000 && saga.Next() is { } call; guard++)
        {
            at = at.AddSeconds(1);
            var (apply, forced) = fault?.Invoke(call, saga.Attempts + 1) ?? (true, null);
            var outcome = apply ? wallets[call.PlayerId].Apply(call, at) : null;
            saga.Record(forced ?? WalletCalls.ResultOf(outcome!), at, outcome?.Message);
        }
        Assert.True(saga.IsFinished, $"saga {saga.Id} did not finish: {saga.Status}");
    }

    private static long TotalGold(Dictionary<string, Wallet> wallets) => wallets.Values.Sum(w => w.Available("GOLD") + w.Held("GOLD"));

    // ---------------------------------------------------------------- the plan

    [Fact]
    public void A_fill_is_four_steps_with_deterministic_keys_and_opposite_compensations()
    {
        var saga = SettlementSaga.ForFill("fill-42", Fill);

        Assert.Equal(SagaStatus.Pending, saga.Status);
        Assert.Equal(["buyer pays", "seller is paid", "seller delivers", "buyer receives"], saga.Steps.Select(s => s.Name));
        Assert.Equal(["settle:fill-42:1", "settle:fill-42:2", "settle:fill-42:3", "settle:fill-42:4"], saga.Steps.Select(s => s.Action.Key));
        Assert.Equal(["settle:fill-42:1:undo", "settle:fill-42:2:undo", "settle:fill-42:3:undo", "settle:fill-42:4:undo"], saga.Steps.Select(s => s.Compensation!.Key));

        var reason = "fill iron_ore/GOLD (fill-42)";
        var undo = "undo fill iron_ore/GOLD (fill-42)";
        Assert.Equal(new WalletCall("bob", WalletOp.Capture, "settle:fill-42:1", "order:b1", AssetBundle.Currency("GOLD", 100), reason), saga.Steps[0].Action);
        Assert.Equal(new WalletCall("bob", WalletOp.Credit, "settle:fill-42:1:undo", null, AssetBundle.Currency("GOLD", 100), undo), saga.Steps[0].Compensation);
        Assert.Equal(new WalletCall("sue", WalletOp.Credit, "settle:fill-42:2", null, AssetBundle.Currency("GOLD", 97), reason), saga.Steps[1].Action);
        Assert.Equal(new WalletCall("sue", WalletOp.Debit, "settle:fill-42:2:undo", null, AssetBundle.Currency("GOLD", 97), undo), saga.Steps[1].Compensation);
        Assert.Equal(new WalletCall("sue", WalletOp.Capture, "settle:fill-42:3", "order:s1", AssetBundle.Items("iron_ore", 4), reason), saga.Steps[2].Action);
        Assert.Equal(new WalletCall("sue", WalletOp.Credit, "settle:fill-42:3:undo", null, AssetBundle.Items("iron_ore", 4), undo), saga.Steps[2].Compensation);
        Assert.Equal(new WalletCall("bob", WalletOp.Credit, "settle:fill-42:4", null, AssetBundle.Items("iron_ore", 4), reason), saga.Steps[3].Action);
        Assert.Equal(new WalletCall("bob", WalletOp.Debit, "settle:fill-42:4:undo", null, AssetBundle.Items("iron_ore", 4), undo), saga.Steps[3].Compensation);
        Assert.Equal([new HoldRef("bob", "order:b1"), new HoldRef("sue", "order:s1")], saga.Holds);
        Assert.Equal((3L, "GOLD"), (saga.Fee, saga.FeeCurrency));
        Assert.Equal(saga.Steps[0].Action, saga.Next());
        Assert.Equal(saga.ToState().Steps, SettlementSaga.ForFill("fill-42", Fill).ToState().Steps);
    }

    public static TheoryData<string> BadFills => ["price", "quantity", "overflow", "fee:negative", "fee:all", "currency", "item", "buyer", "hold", "instrument", "id"];

    [Theory]
    [MemberData(nameof(BadFills))]
    public void Terms_that_cannot_settle_are_refused(string what)
    {
        var (id, terms) = what switch
        {
            "price" => ("f", Fill with { Price = 0 }),
            "quantity" => ("f", Fill with { Quantity = -1 }),
            "overflow" => ("f", Fill with { Price = long.MaxValue / 2, Quantity = 3 }),
            "fee:negative" => ("f", Fill with { Fee = -1 }),
            "fee:all" => ("f", Fill with { Fee = 100 }),
            "currency" => ("f", Fill with { Currency = "gold" }),
            "item" => ("f", Fill with { ItemType = "Iron Ore" }),
            "buyer" => ("f", Fill with { BuyerId = "" }),
            "hold" => ("f", Fill with { SellerHoldId = "a b" }),
            "instrument" => ("f", Fill with { Instrument = "" }),
            _ => ("fill:42", Fill),
        };

        Assert.Throws<ArgumentException>(() => SettlementSaga.ForFill(id, terms));
    }

    // ---------------------------------------------------------------- forward

    [Fact]
    public void A_fill_settles_forward_and_the_fee_leaves_the_economy()
    {
        var wallets = FillWallets();
        var goldBefore = TotalGold(wallets);
        var saga = SettlementSaga.ForFill("fill-1", Fill);

        Drive(saga, wallets);

        Assert.Equal(SagaStatus.Settled, saga.Status);
        Assert.Null(saga.Next());
        Assert.Null(saga.FailureReason);
        var (bob, sue) = (wallets["bob"], wallets["sue"]);
        Assert.Equal((850L, 50L, 4L), (bob.Available("GOLD"), bob.Held("GOLD"), bob.AvailableItems("iron_ore")));
        Assert.Equal((107L, 4L, 2L), (sue.Available("GOLD"), sue.AvailableItems("iron_ore"), sue.HeldItems("iron_ore")));
        Assert.Equal(goldBefore - saga.Fee, TotalGold(wallets));
        Assert.Equal([1, 1, 1, 1], saga.Log.Select(e => e.Attempt));
        Assert.All(saga.Log, e => Assert.Equal((StepResult.Done, false), (e.Result, e.Compensation)));

        // What is left of the holds is the caller's to release.
        Assert.True(bob.Release("release-b1", "order:b1", T0).Ok);
        Assert.True(sue.Release("release-s1", "order:s1", T0).Ok);
        Assert.Equal((900L, 0L), (bob.Available("GOLD"), bob.Held("GOLD")));
    }

    [Fact]
    public void Retries_are_counted_per_call_and_the_same_call_comes_again()
    {
        var saga = SettlementSaga.ForFill("fill-2", Fill);
        var first = saga.Next();

        saga.Record(StepResult.Retry, T0);
        saga.Record(StepResult.Retry, T0.AddSeconds(1));

        Assert.Equal(first, saga.Next());
        Assert.Equal(2, saga.Attempts);
        saga.Record(StepResult.Done, T0.AddSeconds(2));
        Assert.Equal(0, saga.Attempts);
        Assert.Equal(3, saga.TotalAttempts);
        Assert.Equal(saga.Steps[1].Action, saga.Next());
        Assert.Equal([(StepResult.Retry, 1), (StepResult.Retry, 2), (StepResult.Done, 3)], saga.Log.Select(e => (e.Result, e.Attempt)));
        Assert.All(saga.Log, e => Assert.Equal("settle:fill-2:1", e.Key));
    }

    [Fact]
    public void Nineteen_retries_keep_trying_the_twentieth_gives_the_step_up()
    {
        var saga = SettlementSaga.ForFill("fill-3", Fill);
        saga.Record(StepResult.Done, T0);
        for (var i = 1; i < SettlementSaga.MaxForwardAttempts; i++)
        {
            saga.Record(StepResult.Retry, T0);
        }
        Assert.Equal((SagaStatus.Pending, saga.Steps[1].Action), (saga.Status, saga.Next()));

        saga.Record(StepResult.Retry, T0);

        // Step 2's outcome is unknown: its undo comes first, and only if the wallet applied it.
        Assert.Equal(SagaStatus.Compensating, saga.Status);
        Assert.Equal(saga.Steps[1].Compensation! with { OnlyIfApplied = "settle:fill-3:2" }, saga.Next());
        Assert.Contains("no answer after 20 attempts", saga.FailureReason, StringComparison.Ordinal);
        saga.Record(StepResult.Done, T0);
        Assert.Equal(saga.Steps[0].Compensation, saga.Next());
        Assert.Null(saga.Next()!.OnlyIfApplied);
        saga.Record(StepResult.Done, T0);
        Assert.Equal(SagaStatus.Compensated, saga.Status);
    }

    // ---------------------------------------------------------------- compensation

    [Fact]
    public void A_refused_step_undoes_the_steps_before_it_newest_first_and_everything_comes_back()
    {
        var wallets = FillWallets();
        var before = wallets.ToDictionary(p => p.Key, p => p.Value.Balances());
        // The seller's hold is gone (say, an operator released it): step 3 is refused by the wallet itself.
        Assert.True(wallets["sue"].Release("operator", "order:s1", T0).Ok);
        var sueBefore = wallets["sue"].Balances();
        var saga = SettlementSaga.ForFill("fill-4", Fill);

        Drive(saga, wallets);

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal(
            ["settle:fill-4:1", "settle:fill-4:2", "settle:fill-4:3", "settle:fill-4:2:undo", "settle:fill-4:1:undo"],
            saga.Log.Select(e => e.Key));
        Assert.Equal([false, false, false, true, true], saga.Log.Select(e => e.Compensation));
        Assert.StartsWith("step 3 (seller delivers) was refused: hold order:s1 is closed", saga.FailureReason, StringComparison.Ordinal);
        Assert.Equal(sueBefore, wallets["sue"].Balances(), BalancesEqual.Instance);
        // The buyer's payment came back to available; releasing the hold gives back the rest.
        var bob = wallets["bob"];
        Assert.Equal((950L, 50L), (bob.Available("GOLD"), bob.Held("GOLD")));
        Assert.True(bob.Release("release-b1", "order:b1", T0).Ok);
        Assert.Equal(before["bob"].Currencies.Sum(c => c.Available + c.Held), bob.Available("GOLD"));
    }

    [Fact]
    public void A_refused_first_step_has_nothing_to_undo()
    {
        var saga = SettlementSaga.ForFill("fill-5", Fill);

        saga.Record(StepResult.Failed, T0, "hold order:b1 is closed");

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Null(saga.Next());
        Assert.Equal("step 1 (buyer pays) was refused: hold order:b1 is closed", saga.FailureReason);
    }

    [Fact]
    public void A_compensation_retries_forever_and_the_log_stays_bounded()
    {
        var saga = SettlementSaga.ForFill("fill-6", Fill);
        saga.Record(StepResult.Done, T0);
        saga.Record(StepResult.Failed, T0);
        var undo = saga.Next();

        for (var i = 0; i < 500; i++)
        {
            saga.Record(StepResult.Retry, T0.AddSeconds(i));
        }

        Assert.Equal((SagaStatus.Compensating, undo), (saga.Status, saga.Next()));
        Assert.Equal(500, saga.Attempts);
        Assert.Equal(SettlementSaga.LogKept, saga.Log.Count);
        Assert.Equal(500, saga.Log[^1].Attempt);
    }

    [Fact]
    public void A_refused_compensation_leaves_the_saga_stuck_for_an_operator()
    {
        var wallets = FillWallets();
        var saga = SettlementSaga.ForFill("fill-7", Fill);
        // Steps 1 and 2 go through; the seller spends the proceeds at once; step 3 is lost for good.
        Drive(saga, wallets, (call, attempt) =>
        {
            if (call.Key == "settle:fill-7:3")
            {
                Assert.True(wallets["sue"].Debit("spend", AssetBundle.Currency("GOLD", 107), "shop", T0).Ok);
                return (false, StepResult.Failed);
            }
            return (true, null);
        });

        Assert.Equal(SagaStatus.Stuck, saga.Status);
        Assert.Null(saga.Next());
        Assert.Contains("undoing step 2 (seller is paid) was refused: GOLD: 97 needed, 0 available", saga.FailureReason, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => saga.Record(StepResult.Done, T0));
        Assert.Equal(1, saga.ToState().Position);
    }

    [Fact]
    public void An_unanswered_step_that_was_applied_is_undone()
    {
        var wallets = FillWallets();
        var goldBefore = TotalGold(wallets);
        var saga = SettlementSaga.ForFill("fill-8", Fill);

        // Step 2 reaches the wallet every time, but no answer ever comes back.
        Drive(saga, wallets, (call, attempt) => call.Key == "settle:fill-8:2" ? (true, StepResult.Retry) : (true, null));

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal(goldBefore, TotalGold(wallets));
        Assert.Equal((10L, 10L), (wallets["sue"].Available("GOLD"), wallets["sue"].AvailableItems("iron_ore") + wallets["sue"].HeldItems("iron_ore")));
        Assert.Equal(LedgerError.None, wallets["sue"].Recall("settle:fill-8:2:undo")!.Error);
    }

    [Fact]
    public void An_unanswered_step_that_never_arrived_is_fenced_so_it_can_not_arrive_later()
    {
        var wallets = FillWallets();
        var goldBefore = TotalGold(wallets);
        var saga = SettlementSaga.ForFill("fill-9", Fill);
        var step2 = saga.Steps[1].Action;

        // Step 2 never reaches the wallet.
        Drive(saga, wallets, (call, attempt) => call.Key == "settle:fill-9:2" ? (false, StepResult.Retry) : (true, null));

        Assert.Equal(SagaStatus.Compensated, saga.Status);
        Assert.Equal(goldBefore, TotalGold(wallets));
        Assert.Null(wallets["sue"].Recall("settle:fill-9:2:undo"));
        Assert.Equal(10, wallets["sue"].Available("GOLD"));
        // The original, delivered late, is refused.
        Assert.Equal(LedgerError.IdempotencyConflict, wallets["sue"].Apply(step2, T0).Error);
        Assert.Equal(10, wallets["sue"].Available("GOLD"));
    }

    // ---------------------------------------------------------------- restarts

    [Fact]
    public void After_a_restart_from_state_Next_is_the_same_call_with_the_same_key()
    {
        var saga = SettlementSaga.ForFill("fill-10", Fill);
        var results = new[] { StepResult.Retry, StepResult.Done, StepResult.Retry, StepResult.Failed, StepResult.Retry, StepResult.Done };
        foreach (var result in results)
        {
            var state = saga.ToState();
            var restored = SettlementSaga.FromState(state);
            StateAssert.Equal(state, restored.ToState());
            Assert.Equal(saga.Next(), restored.Next());
            Assert.Equal((saga.Status, saga.Attempts), (restored.Status, restored.Attempts));

            saga = restored;
            saga.Record(result, T0);
        }
        Assert.Equal(SagaStatus.Compensated, saga.Status);
        StateAssert.Equal(saga.ToState(), SettlementSaga.FromState(saga.ToState()).ToState());
    }

    [Fact]
    public void The_uncertain_step_survives_a_restart()
    {
        var saga = SettlementSaga.ForFill("fill-11", Fill);
        for (var i = 0; i < SettlementSaga.MaxForwardAttempts; i++)
        {
            saga.Record(StepResult.Retry, T0);
        }

        var restored = SettlementSaga.FromState(saga.ToState());

        Assert.Equal("settle:fill-11:1", restored.Next()!.OnlyIfApplied);
    }

    [Fact]
    public void A_kill_at_any_point_of_the_host_loop_settles_exactly_once()
    {
        // The uninterrupted run, to compare with.
        var reference = FillWallets();
        Drive(SettlementSaga.ForFill("fill-12", Fill), reference);

        // Kill after every wallet call but before the saga records it (the worst moment), then after recording but
        // before saving; restart each time from what was saved.
        for (var killAt = 0; killAt < 8; killAt++)
        {
            var wallets = FillWallets();
            var saved = SettlementSaga.ForFill("fill-12", Fill).ToState();
            var at = T0;
            for (var turn = 0; turn < 20; turn++)
            {
                var saga = SettlementSaga.FromState(saved);
                if (saga.Next() is not { } call)
                {
                    break;
                }
                at = at.AddSeconds(1);
                var outcome = wallets[call.PlayerId].Apply(call, at);
                wallets[call.PlayerId] = Wallet.FromState(wallets[call.PlayerId].ToState());
                if (turn == killAt)
                {
                    continue; // killed before Record: the saved saga still points at this call
                }
                saga.Record(WalletCalls.ResultOf(outcome), at, outcome.Message);
                if (turn == killAt + 1)
                {
                    continue; // killed after Record, before saving
                }
                saved = saga.ToState();
            }

            Assert.Equal(SagaStatus.Settled, saved.Status);
            foreach (var player in reference.Keys)
            {
                Assert.Equal(reference[player].Balances(), wallets[player].Balances(), BalancesEqual.Instance);
            }
        }
    }

    [Fact]
    public void FromState_refuses_a_state_no_saga_can_be_in()
    {
        var state = SettlementSaga.ForFill("fill-13", Fill).ToState();
        state.Position = 4;
        Assert.Throws<ArgumentException>(() => SettlementSaga.FromState(state));

        state = SettlementSaga.ForFill("fill-13", Fill).ToState();
        state.Status = SagaStatus.Compensated;
        Assert.Throws<ArgumentException>(() => SettlementSaga.FromState(state));
    }

    // ---------------------------------------------------------------- swaps

    [Fact]
    public void A_swap_captures_both_sides_then_credits_each_to_the_other()
    {
        var ann = Wallet.Open("ann");
        Assert.True(ann.Credit("seed", AssetBundle.Currency("GOLD", 500).WithInstances("sword-1"), "seed", T0).Ok);
        Assert.True(ann.Hold("escrow", "trade:t1:ann", AssetBundle.Currency("GOLD", 200).WithInstances("sword-1"), "trade t1", T0).Ok);
        var ben = Wallet.Open("ben");
        Assert.True(ben.Credit("seed", AssetBundle.Items("wood", 30).WithInstances("bow-9"), "seed", T0).Ok);
        Assert.True(ben.Hold("escrow", "trade:t1:ben", AssetBundle.Items("wood", 30).WithInstances("bow-9"), "trade t1", T0).Ok);
        var terms = new SwapTerms(
            "ann", "trade:t1:ann", AssetBundle.Currency("GOLD", 200).WithInstances("sword-1"),
            "ben", "trade:t1:ben", AssetBundle.Items("wood", 30).WithInstances("bow-9"));
        var saga = SettlementSaga.ForSwap("trade-t1", terms);

        Assert.Equal(["ann gives", "ben gives", "ben receives", "ann receives"], saga.Steps.Select(s => s.Name));
        Assert.Equal([WalletOp.Capture, WalletOp.Capture, WalletOp.Credit, WalletOp.Credit], saga.Steps.Select(s => s.Action.Op));
        Assert.Equal([WalletOp.Credit, WalletOp.Credit, WalletOp.Debit, WalletOp.Debit], saga.Steps.Select(s => s.Compensation!.Op));
        Assert.Equal((0L, (string?)null), (saga.Fee, saga.FeeCurrency));
        Drive(saga, new(StringComparer.Ordinal) { ["ann"] = ann, ["ben"] = ben });

        Assert.Equal(SagaStatus.Settled, saga.Status);
        Assert.Equal((300L, 30L), (ann.Available("GOLD"), ann.AvailableItems("wood")));
        Assert.True(ann.OwnsInstance("bow-9", out _) && !ann.OwnsInstance("sword-1", out _));
        Assert.Equal((200L, 0L), (ben.Available("GOLD"), ben.AvailableItems("wood")));
        Assert.True(ben.OwnsInstance("sword-1", out _) && !ben.OwnsInstance("bow-9", out _));
        Assert.Empty(ann.OpenHolds());
        Assert.Empty(ben.OpenHolds());
    }

    [Fact]
    public void A_gift_has_steps_for_the_one_side_only()
    {
        var saga = SettlementSaga.ForSwap("gift-1", new SwapTerms("ann", "h-a", AssetBundle.Currency("GOLD", 5), "ben", "h-b", AssetBundle.Empty));

        Assert.Equal(["ann gives", "ben receives"], saga.Steps.Select(s => s.Name));
        Assert.Equal(["settle:gift-1:1", "settle:gift-1:2"], saga.Steps.Select(s => s.Action.Key));
    }

    [Fact]
    public void A_swap_needs_two_players_and_something_to_swap()
    {
        var gold = AssetBundle.Currency("GOLD", 5);
        Assert.Throws<ArgumentException>(() => SettlementSaga.ForSwap("s", new SwapTerms("ann", "h-a", gold, "ann", "h-b", gold)));
        Assert.Throws<ArgumentException>(() => SettlementSaga.ForSwap("s", new SwapTerms("ann", "h-a", AssetBundle.Empty, "ben", "h-b", AssetBundle.Empty)));
        Assert.Throws<ArgumentException>(() => SettlementSaga.ForSwap("s", new SwapTerms("ann", "h-a", AssetBundle.Currency("GOLD", 0), "ben", "h-b", gold)));
    }

    // ---------------------------------------------------------------- calls

    [Fact]
    public void Apply_runs_the_call_on_its_own_wallet_only()
    {
        var wallet = Wallet.Open("ann");
        var call = new WalletCall("ann", WalletOp.Credit, "k", null, AssetBundle.Currency("GOLD", 5), "r");

        Assert.Equal(StepResult.Done, WalletCalls.ResultOf(wallet.Apply(call, T0)));
        Assert.Equal(StepResult.Done, WalletCalls.ResultOf(wallet.Apply(call, T0)));
        Assert.Equal(5, wallet.Available("GOLD"));
        Assert.Equal(StepResult.Failed, WalletCalls.ResultOf(wallet.Apply(call with { Key = "k2", Op = WalletOp.Capture, HoldId = "none" }, T0)));
        Assert.Throws<ArgumentException>(() => Wallet.Open("ben").Apply(call, T0));
    }

    private sealed class BalancesEqual : IEqualityComparer<BalanceView>
    {
        public static readonly BalancesEqual Instance = new();

        public bool Equals(BalanceView? x, BalanceView? y) => StateAssert.AreEqual(x, y);

        public int GetHashCode(BalanceView obj) => 0;
    }
}
