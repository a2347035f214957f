using DaprGame.Trading.Domain.DirectTrades;
using DaprGame.Trading.Domain.Ledger;
using DaprGame.Trading.Domain.Settlement;
using DaprGame.Trading.Domain.Tests.Ledger;

namespace DaprGame.Trading.Domain.Tests.DirectTrades;

public sealed class DirectTradeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);
    private static readonly AssetBundle Sword = AssetBundle.Instance("sword-1");
    private static readonly AssetBundle Gold = AssetBundle.Currency("GOLD", 250);

    private static DirectTrade Proposed() => DirectTrade.Propose("t1", "ann", "ben", Sword, Gold, T0, Ttl);

    private static DirectTrade Accepted()
    {
        var trade = Proposed();
        Assert.True(trade.Accept("ben", T0.AddMinutes(1)).Ok);
        return trade;
    }

    private static DirectTrade Confirmed()
    {
        var trade = Accepted();
        Assert.True(trade.Confirm("ann", T0.AddMinutes(2)).Ok);
        Assert.True(trade.Confirm("ben", T0.AddMinutes(2)).Ok);
        return trade;
    }

    private static DirectTrade Escrowed()
    {
        var trade = Confirmed();
        trade.Escrowed();
        return trade;
    }

    private static DirectTrade Settling()
    {
        var trade = Escrowed();
        trade.SettlementStarted("trade-t1");
        return trade;
    }

    // ---------------------------------------------------------------- propose

    [Fact]
    public void A_proposal_starts_proposed_with_its_deadline()
    {
        var trade = Proposed();

        Assert.Equal(TradeStatus.Proposed, trade.Status);
        Assert.Equal(T0 + Ttl, trade.ExpiresAt);
        Assert.False(trade.ReadyToEscrow);
        Assert.Equal(("ann", "ben"), (trade.Proposer, trade.Counterparty));
        Assert.Equal(Sword, trade.Gives("ann"));
        Assert.Equal(Gold, trade.Gives("ben"));
    }

    public static TheoryData<string> BadProposals => ["same-player", "both-empty", "zero-amount", "bad-code", "bad-player", "bad-id", "long-id", "zero-ttl", "long-ttl", "null-side"];

    [Theory]
    [MemberData(nameof(BadProposals))]
    public void A_proposal_that_cannot_trade_is_invalid(string what)
    {
        var (id, proposer, counterparty, gives, takes, ttl) = ("t1", "ann", "ben", Sword, Gold, Ttl);
        switch (what)
        {
            case "same-player": counterparty = "ann"; break;
            case "both-empty": (gives, takes) = (AssetBundle.Empty, AssetBundle.Empty); break;
            case "zero-amount": takes = AssetBundle.Currency("GOLD", 0); break;
            case "bad-code": takes = AssetBundle.Currency("gold", 5); break;
            case "bad-player": proposer = "ann:x"; break;
            case "bad-id": id = "t 1"; break;
            case "long-id": id = new string('t', 49); break;
            case "zero-ttl": ttl = TimeSpan.Zero; break;
            case "long-ttl": ttl = TimeSpan.MaxValue; break;
            case "null-side": gives = null!; break;
        }

        var result = DirectTrade.TryPropose(id, proposer, counterparty, gives, takes, T0, ttl, out var trade);

        Assert.Equal(TradeError.Invalid, result.Error);
        Assert.False(string.IsNullOrEmpty(result.Message));
        Assert.Null(trade);
        Assert.Throws<ArgumentException>(() => DirectTrade.Propose(id, proposer, counterparty, gives, takes, T0, ttl));
    }

    [Fact]
    public void A_gift_has_one_empty_side()
    {
        Assert.True(DirectTrade.TryPropose("g1", "ann", "ben", Sword, AssetBundle.Empty, T0, Ttl, out var gift).Ok);
        Assert.Equal(TradeStatus.Proposed, gift!.Status);
    }

    [Fact]
    public void The_trade_keeps_its_own_copy_of_the_bundles()
    {
        var gives = AssetBundle.Currency("GOLD", 5);
        var trade = DirectTrade.Propose("t1", "ann", "ben", gives, Sword, T0, Ttl);

        gives.Currencies["GOLD"] = 5_000;
        trade.Gives("ann").Currencies["GOLD"] = 7;

        Assert.Equal(AssetBundle.Currency("GOLD", 5), trade.Gives("ann"));
    }

    // ---------------------------------------------------------------- accept

    [Fact]
    public void Only_the_counterparty_accepts_only_while_proposed_and_before_the_deadline()
    {
        var trade = Proposed();
        var before = trade.ToState();

        Assert.Equal(TradeError.NotAParty, trade.Accept("eve", T0).Error);
        Assert.Equal(TradeError.NotCounterparty, trade.Accept("ann", T0).Error);
        Assert.Equal(TradeError.Expired, trade.Accept("ben", T0 + Ttl).Error);
        StateAssert.Equal(before, trade.ToState());

        Assert.True(trade.Accept("ben", T0 + Ttl - TimeSpan.FromTicks(1)).Ok);
        Assert.Equal(TradeStatus.Accepted, trade.Status);
        Assert.Equal(TradeError.WrongState, trade.Accept("ben", T0).Error);
    }

    // ---------------------------------------------------------------- confirm

    [Fact]
    public void Each_party_confirms_once_and_both_make_it_ready_to_escrow()
    {
        var trade = Accepted();

        Assert.True(trade.Confirm("ben", T0.AddMinutes(2)).Ok);
        Assert.False(trade.ReadyToEscrow);
        Assert.Equal(TradeError.AlreadyConfirmed, trade.Confirm("ben", T0.AddMinutes(2)).Error);
        Assert.Equal(TradeError.NotAParty, trade.Confirm("eve", T0.AddMinutes(2)).Error);
        Assert.True(trade.Confirm("ann", T0.AddMinutes(3)).Ok);

        Assert.True(trade.ReadyToEscrow);
        Assert.Equal(TradeStatus.Accepted, trade.Status);
        Assert.Equal(TradeError.AlreadyConfirmed, trade.Confirm("ann", T0.AddMinutes(3)).Error);
    }

    [Fact]
    public void Confirming_needs_an_accepted_trade_before_its_deadline()
    {
        Assert.Equal(TradeError.WrongState, Proposed().Confirm("ann", T0).Error);

        var trade = Accepted();
        var before = trade.ToState();
        Assert.Equal(TradeError.Expired, trade.Confirm("ann", T0 + Ttl).Error);
        StateAssert.Equal(before, trade.ToState());

        var cancelled = Accepted();
        Assert.True(cancelled.Cancel("ann", T0).Ok);
        Assert.Equal(TradeError.WrongState, cancelled.Confirm("ben", T0).Error);
    }

    // ---------------------------------------------------------------- cancel

    [Theory]
    [InlineData("proposed", "ann")]
    [InlineData("proposed", "ben")]
    [InlineData("accepted", "ann")]
    [InlineData("confirmed", "ben")]
    [InlineData("escrowed", "ann")]
    public void Either_party_cancels_before_settling(string stage, string player)
    {
        var trade = stage switch
        {
            "proposed" => Proposed(),
            "accepted" => Accepted(),
            "confirmed" => Confirmed(),
            _ => Escrowed(),
        };

        Assert.True(trade.Cancel(player, T0.AddMinutes(4)).Ok);

        Assert.Equal(TradeStatus.Cancelled, trade.Status);
        Assert.True(trade.IsFinished);
        Assert.False(trade.ReadyToEscrow);
        var state = trade.ToState();
        Assert.Equal((player, (DateTimeOffset?)T0.AddMinutes(4)), (state.CancelledBy, state.EndedAt));
    }

    [Fact]
    public void Cancelling_is_refused_to_strangers_and_once_settling_or_over()
    {
        Assert.Equal(TradeError.NotAParty, Proposed().Cancel("eve", T0).Error);
        Assert.Equal(TradeError.WrongState, Settling().Cancel("ann", T0).Error);

        var cancelled = Proposed();
        cancelled.Cancel("ann", T0);
        Assert.Equal(TradeError.WrongState, cancelled.Cancel("ben", T0).Error);
        Assert.Equal("ann", cancelled.ToState().CancelledBy);
    }

    // ---------------------------------------------------------------- expiry

    [Theory]
    [InlineData("proposed")]
    [InlineData("accepted")]
    [InlineData("escrowed")]
    public void Past_the_deadline_a_trade_not_yet_settling_expires(string stage)
    {
        var trade = stage switch { "proposed" => Proposed(), "accepted" => Accepted(), _ => Escrowed() };

        Assert.False(trade.Expire(T0 + Ttl - TimeSpan.FromTicks(1)));
        Assert.Equal(stage == "proposed" ? TradeStatus.Proposed : stage == "accepted" ? TradeStatus.Accepted : TradeStatus.Escrowed, trade.Status);

        Assert.True(trade.Expire(T0 + Ttl));
        Assert.Equal(TradeStatus.Expired, trade.Status);
        Assert.False(trade.Expire(T0 + Ttl + Ttl));
        Assert.Equal(TradeError.WrongState, trade.Cancel("ann", T0 + Ttl).Error);
    }

    [Fact]
    public void A_settling_or_finished_trade_does_not_expire()
    {
        var settling = Settling();
        Assert.False(settling.Expire(T0 + Ttl + Ttl));
        Assert.Equal(TradeStatus.Settling, settling.Status);

        var cancelled = Proposed();
        cancelled.Cancel("ann", T0);
        Assert.False(cancelled.Expire(T0 + Ttl));
        Assert.Equal(TradeStatus.Cancelled, cancelled.Status);
    }

    // ---------------------------------------------------------------- host steps

    [Fact]
    public void Escrow_then_settlement_then_the_end()
    {
        var trade = Confirmed();

        trade.Escrowed();
        trade.Escrowed();
        Assert.Equal(TradeStatus.Escrowed, trade.Status);
        Assert.False(trade.ReadyToEscrow);
        trade.SettlementStarted("trade-t1");
        trade.SettlementStarted("trade-t1");
        Assert.Equal((TradeStatus.Settling, "trade-t1"), (trade.Status, trade.SettlementId));
        trade.Finished(true, null);
        trade.Finished(true, null);

        Assert.Equal(TradeStatus.Completed, trade.Status);
        Assert.True(trade.IsFinished);
        Assert.Null(trade.FailureReason);
    }

    [Fact]
    public void A_settlement_that_did_not_settle_fails_the_trade()
    {
        var trade = Settling();

        trade.Finished(false, "step 2 was refused");

        Assert.Equal((TradeStatus.Failed, "step 2 was refused"), (trade.Status, trade.FailureReason));
        Assert.Throws<InvalidOperationException>(() => trade.Finished(true, null));
    }

    [Fact]
    public void An_escrow_that_could_not_be_placed_fails_the_trade()
    {
        var trade = Confirmed();

        trade.Finished(false, "ben: GOLD: 250 needed, 10 available");

        Assert.Equal(TradeStatus.Failed, trade.Status);
    }

    [Fact]
    public void Host_steps_out_of_order_throw()
    {
        Assert.Throws<InvalidOperationException>(() => Proposed().Escrowed());
        Assert.Throws<InvalidOperationException>(() => Accepted().Escrowed());
        Assert.Throws<InvalidOperationException>(() => Confirmed().SettlementStarted("s"));
        Assert.Throws<InvalidOperationException>(() => Settling().SettlementStarted("another"));
        Assert.Throws<InvalidOperationException>(() => Escrowed().Finished(true, null));
        Assert.Throws<InvalidOperationException>(() => Proposed().Finished(false, "x"));
        var cancelled = Escrowed();
        cancelled.Cancel("ben", T0);
        Assert.Throws<InvalidOperationException>(() => cancelled.SettlementStarted("s"));
    }

    // ---------------------------------------------------------------- what the host needs

    [Fact]
    public void Hold_ids_are_deterministic_and_only_for_parties()
    {
        var trade = Proposed();

        Assert.Equal("trade:t1:ann", trade.HoldIdFor("ann"));
        Assert.Equal("trade:t1:ben", trade.HoldIdFor("ben"));
        Assert.True(LedgerIds.IsValidKey(DirectTrade.Propose(new string('t', 48), new string('a', 64), "b", Sword, Gold, T0, Ttl).HoldIdFor(new string('a', 64))));
        Assert.Throws<ArgumentException>(() => trade.HoldIdFor("eve"));
        Assert.Throws<ArgumentException>(() => trade.Gives("eve"));
    }

    [Fact]
    public void The_whole_trade_against_real_wallets()
    {
        var ann = Wallet.Open("ann");
        ann.Credit("seed", Sword, "seed", T0);
        var ben = Wallet.Open("ben");
        ben.Credit("seed", AssetBundle.Currency("GOLD", 1_000), "seed", T0);
        var wallets = new Dictionary<string, Wallet> { ["ann"] = ann, ["ben"] = ben };
        var trade = Confirmed();

        foreach (var party in new[] { "ann", "ben" })
        {
            Assert.True(wallets[party].Hold($"escrow:{trade.TradeId}", trade.HoldIdFor(party), trade.Gives(party), $"trade {trade.TradeId}", T0).Ok);
        }
        trade.Escrowed();
        var saga = SettlementSaga.ForSwap("trade-t1", trade.ToSwapTerms());
        trade.SettlementStarted(saga.Id);
        while (saga.Next() is { } call)
        {
            saga.Record(WalletCalls.ResultOf(wallets[call.PlayerId].Apply(call, T0)), T0);
        }
        trade.Finished(saga.Status == SagaStatus.Settled, saga.FailureReason);
        foreach (var hold in saga.Holds)
        {
            Assert.Equal(LedgerError.HoldClosed, wallets[hold.PlayerId].Release($"release:{hold.HoldId}", hold.HoldId, T0).Error);
        }

        Assert.Equal(TradeStatus.Completed, trade.Status);
        Assert.True(ben.OwnsInstance("sword-1", out _));
        Assert.Equal((250L, 750L), (ann.Available("GOLD"), ben.Available("GOLD")));
    }

    // ---------------------------------------------------------------- state

    [Fact]
    public void FromState_of_ToState_round_trips_at_every_stage()
    {
        var cancelled = Escrowed();
        cancelled.Cancel("ann", T0.AddMinutes(5));
        var failed = Settling();
        failed.Finished(false, "no");
        foreach (var trade in new[] { Proposed(), Accepted(), Confirmed(), Escrowed(), Settling(), cancelled, failed })
        {
            var state = trade.ToState();
            var restored = DirectTrade.FromState(state);

            StateAssert.Equal(state, restored.ToState());
            Assert.Equal((trade.Status, trade.ReadyToEscrow), (restored.Status, restored.ReadyToEscrow));
        }
        var bad = Proposed().ToState();
        bad.Counterparty = "ann";
        Assert.Throws<ArgumentException>(() => DirectTrade.FromState(bad));
    }
}
