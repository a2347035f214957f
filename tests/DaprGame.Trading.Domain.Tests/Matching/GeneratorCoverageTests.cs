using DaprGame.Trading.Domain.Matching;

namespace DaprGame.Trading.Domain.Tests.Matching;

/// <summary>The random sequences of <see cref="ModelBasedTests"/> reach every outcome, so agreeing with the model means something.</summary>
public sealed class GeneratorCoverageTests
{
    [Fact]
    public void The_random_sequences_reach_every_reject_cancel_and_self_trade_path()
    {
        var rejects = new HashSet<RejectReason>();
        var cancels = new HashSet<CancelReason>();
        var modes = new HashSet<(SelfTradePrevention, CancelReason)>();
        int keptPriority = 0, fillOrKillFilled = 0, replacedAndFilled = 0, multiLevelSweeps = 0;
        for (var seed = 0; seed < 1_000; seed++)
        {
            var (options, commands) = ModelBasedTests.Generate(seed);
            var book = new OrderBook(options);
            foreach (var command in commands)
            {
                var recorder = new Recorder();
                var result = command.Apply(book, ref recorder);
                var events = recorder.Events;
                rejects.Add(result);
                foreach (var c in events.OfType<Cancelled>())
                {
                    cancels.Add(c.Reason);
                    modes.Add((options.SelfTradePrevention, c.Reason));
                }
                keptPriority += command is ReplaceCommand && result == RejectReason.None && events.Count == 1 ? 1 : 0;
                fillOrKillFilled += command is SubmitCommand { Order.Type: OrderType.FillOrKill } && events.OfType<Filled>().Any() ? 1 : 0;
                replacedAndFilled += command is ReplaceCommand && events.OfType<Filled>().Any() ? 1 : 0;
                multiLevelSweeps += events.OfType<Filled>().Select(f => f.Fill.Price).Distinct().Count() > 1 ? 1 : 0;
            }
        }

        Assert.Equal(Enum.GetValues<RejectReason>().ToHashSet(), rejects);
        // PostOnlyWouldCross is never emitted; Expired is the host's cancel with a reason (OrderBookTests covers it).
        Assert.Equal(Enum.GetValues<CancelReason>().Where(r => r is not (CancelReason.PostOnlyWouldCross or CancelReason.Expired)).ToHashSet(), cancels);
        Assert.All(Enum.GetValues<SelfTradePrevention>(), mode => Assert.Contains((mode, CancelReason.SelfTrade), modes));
        Assert.True(keptPriority > 100, $"{keptPriority} replaces kept priority");
        Assert.True(fillOrKillFilled > 100, $"{fillOrKillFilled} fill-or-kill orders filled");
        Assert.True(replacedAndFilled > 100, $"{replacedAndFilled} replaces crossed and filled");
        Assert.True(multiLevelSweeps > 100, $"{multiLevelSweeps} orders took from several levels");
    }
}
