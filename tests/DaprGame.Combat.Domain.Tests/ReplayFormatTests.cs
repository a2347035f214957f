namespace DaprGame.Combat.Domain.Tests;

/// <summary>
/// The replay log is a contract with every log already written: a scripted match must keep producing the same bytes
/// and replaying to the same hash. A deliberate change to the rules or the format updates the pins below and bumps
/// the log's version byte.
/// </summary>
public sealed class ReplayFormatTests
{
    private const ulong PinnedLogChecksum = 0x37AD36AF4FEF4D9B;
    private const ulong PinnedFinalHash = 0x1E0CAABA8E350457;

    [Fact]
    public void A_scripted_match_writes_the_same_log_and_reaches_the_same_hash()
    {
        var sim = MatchSimulations.Create(new MatchSetup("team", "arena", 20, 2026, MaxPlayers: 4, Bots: 6));
        var red = sim.Join("red", 1);
        var blue = sim.Join("blue", 2);
        for (var tick = 1; tick <= 60; tick++)
        {
            sim.Submit("red", new PlayerInput { Sequence = (uint)tick, Tick = tick, ViewTick = tick - 1, Entity = red, MoveX = 600, MoveY = (short)(tick * 20 - 600), AimX = 1, AimY = 1, Buttons = tick % 5 == 0 ? InputButtons.Fire : InputButtons.None });
            sim.Submit("blue", new PlayerInput { Sequence = (uint)tick, Tick = tick, ViewTick = tick - 2 < 0 ? 0 : tick - 2, Entity = blue, MoveX = -600, MoveY = 300, AimX = -1, AimY = 0, Buttons = tick == 30 ? InputButtons.Ability1 : InputButtons.None });
            if (tick == 40)
            {
                sim.Leave("blue");
            }
            sim.Step();
        }

        var report = Replays.Verify(sim.Log, sim.TickHashes);
        Assert.Equal(0, report.Mismatches);
        Assert.Equal((PinnedLogChecksum, PinnedFinalHash), (DeterminismTests.HashOfHashes([.. sim.Log.Select(b => (ulong)b)]), sim.StateHash));
    }

    [Fact]
    public void A_log_of_another_version_or_not_a_log_is_refused()
    {
        var sim = MatchSimulations.Create(new MatchSetup("deathmatch", "arena", 20, 1));
        sim.Step();
        var log = sim.Log;
        log[4] = 2;

        Assert.Contains("version 2", Assert.Throws<InvalidDataException>(() => Replays.Verify(log)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => Replays.Verify("not a log"u8));
        Assert.Throws<InvalidDataException>(() => Replays.Verify(sim.Log.AsSpan(0, 12)));
    }
}
