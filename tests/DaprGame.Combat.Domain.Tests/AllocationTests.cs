using System.Buffers;
using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Combat.Domain.Tests;

public sealed class AllocationTests
{
    [Fact]
    public void Steady_state_steps_and_snapshots_allocate_nothing()
    {
        var sim = (Match)MatchSimulations.Create(new MatchSetup("deathmatch", "plaza", 20, 12, MaxPlayers: 10, Bots: 300));
        var players = Enumerable.Range(0, 10).Select(i => $"p{i}").ToArray();
        var entities = players.Select(p => sim.Join(p, 0)).ToArray();
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        var acked = new int[players.Length];
        var inputs = new PlayerInput[players.Length];
        uint sequence = 0;

        // No assertion inside a measured window: xunit's asserts allocate.
        void Tick()
        {
            sequence++;
            for (var p = 0; p < players.Length; p++)
            {
                inputs[p] = new PlayerInput { Sequence = sequence, Tick = sim.Tick + 1, ViewTick = sim.Tick, Entity = entities[p], MoveX = (short)((sequence * 37 + p * 101) % 2001 - 1000), MoveY = (short)((sequence * 53 + p * 7) % 1401 - 700) };
                sim.Submit(players[p], inputs[p]);
            }
            sim.Step();
            for (var p = 0; p < players.Length; p++)
            {
                buffer.ResetWrittenCount();
                sim.WriteSnapshot(players[p], acked[p], buffer);
                acked[p] = sim.Tick - (p % 3);
            }
        }

        for (var i = 0; i < 200; i++)
        {
            Tick();
        }
        var clean = 0;
        var allocatedInCleanWindows = 0L;
        var windows = new List<(long, bool)>(20);
        for (var window = 0; window < 20; window++)
        {
            var reserved = sim.ReservedCapacity;
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 25; i++)
            {
                Tick();
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            windows.Add((allocated, sim.ReservedCapacity == reserved));
            // A window in which the log or the hash list doubled pays for that growth; every other window must be free.
            if (sim.ReservedCapacity == reserved)
            {
                clean++;
                allocatedInCleanWindows += allocated;
            }
        }

        Assert.True(clean >= 15, $"{clean} of 20 windows without log growth");
        Assert.True(allocatedInCleanWindows == 0, $"allocated per window (bytes, without log growth): {string.Join(", ", windows)}");
        Assert.DoesNotContain(sim.VerdictCounts, v => v.Key != InputVerdict.ClampedSpeed);
    }
}
