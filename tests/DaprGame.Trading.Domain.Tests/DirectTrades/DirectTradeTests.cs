using DaprGame.Trading.Domain.DirectTrades;
using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Tests.DirectTrades;

public sealed class DirectTradeTests
{
    private static readonly DateTimeOffset At = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static DirectTrade Proposed() =>
        DirectTrade.Propose("t1", "alice", "bob", AssetBundle.Currency("GOLD", 100), AssetBundle.Items("sword", 1), At, TimeSpan.FromMinutes(5));

    [Fact]
    public void Accept_then_both_confirm_makes_it_ready_to_escrow_and_settle()
    {
        var t = Proposed();
        Assert.True(t.Accept("bob", At).Ok);
        Assert.True(t.Confirm("alice", At).Ok);
        Assert.False(t.ReadyToEscrow);
        Assert.True(t.Confirm("bob", At).Ok);
        Assert.True(t.ReadyToEscrow);

        t.Escrowed();
        t.SettlementStarted("s-t1");
        Assert.False(t.Cancel("alice", At).Ok);
        Assert.False(t.Expire(At.AddHours(1)));
        t.Finished(settled: true, null);

        Assert.Equal(TradeStatus.Completed, t.Status);
        Assert.Equal("trade:t1:bob", t.HoldIdFor("bob"));
    }

    [Fact]
    public void Refusals_are_typed_and_change_nothing()
    {
        var t = Proposed();
        Assert.Equal(TradeError.NotCounterparty, t.Accept("alice", At).Error);
        Assert.Equal(TradeError.NotAParty, t.Accept("mallory", At).Error);
        Assert.Equal(TradeError.WrongState, t.Confirm("alice", At).Error);
        Assert.Equal(TradeError.NotAParty, t.Cancel("mallory", At).Error);
        Assert.Equal(TradeStatus.Proposed, t.Status);

        Assert.True(t.Accept("bob", At).Ok);
        Assert.True(t.Confirm("bob", At).Ok);
        Assert.Equal(TradeError.AlreadyConfirmed, t.Confirm("bob", At).Error);
        Assert.Equal(TradeError.WrongState, t.Accept("bob", At).Error);
    }

    [Fact]
    public void The_deadline_expires_it_and_refuses_late_actions()
    {
        var t = Proposed();
        var late = At.AddMinutes(5);
        Assert.Equal(TradeError.Expired, t.Accept("bob", late).Error);
        Assert.False(t.Expire(late.AddSeconds(-1)));
        Assert.True(t.Expire(late));
        Assert.Equal(TradeStatus.Expired, t.Status);
        Assert.False(t.Expire(late.AddMinutes(1)));
    }

    [Fact]
    public void Either_party_cancels_before_the_settlement_and_state_round_trips()
    {
        var t = Proposed();
        Assert.True(t.Accept("bob", At).Ok);
        var copy = DirectTrade.FromState(t.ToState());
        Assert.True(copy.Cancel("bob", At).Ok);
        Assert.Equal(TradeStatus.Cancelled, copy.Status);
        Assert.Equal(TradeStatus.Accepted, t.Status);
    }

    [Fact]
    public void A_trade_needs_two_players_and_something_to_move()
    {
        Assert.Throws<ArgumentException>(() => DirectTrade.Propose("t", "alice", "alice", AssetBundle.Currency("GOLD", 1), AssetBundle.Empty, At, TimeSpan.FromMinutes(1)));
        Assert.Throws<ArgumentException>(() => DirectTrade.Propose("t", "alice", "bob", AssetBundle.Empty, AssetBundle.Empty, At, TimeSpan.FromMinutes(1)));
        Assert.Throws<ArgumentException>(() => DirectTrade.Propose("t", "alice", "bob", AssetBundle.Currency("GOLD", -1), AssetBundle.Empty, At, TimeSpan.FromMinutes(1)));
    }
}
