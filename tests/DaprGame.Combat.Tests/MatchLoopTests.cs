using System.Net;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Infrastructure;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;
using Dapr.Client;
using Microsoft.Extensions.DependencyInjection;

namespace DaprGame.Combat.Tests;

/// <summary>The tick loop on the fake clock: its cadence, its overruns, and a match that ends by itself.</summary>
public sealed class MatchLoopTests
{
    [Fact]
    public async Task The_loop_steps_exactly_once_per_period_of_the_injected_clock()
    {
        await using var rig = await CombatRig.StartAsync();
        await rig.CreateAsync("alice", "loop-1", seed: 101, tickRate: 20);
        await rig.JoinAsync("alice", "loop-1");
        var match = await rig.StartAsync("alice", "loop-1");
        var sim = rig.Simulations.Of(101);
        Assert.Equal(0, sim.Steps);

        await rig.TickAsync(match);
        Assert.Equal(1, sim.Steps);

        // Half a period: the loop stays parked at tick 1.
        rig.Time.Advance(TimeSpan.FromMilliseconds(25));

        // The other half completes the period: exactly one more step (a step at the half would make three).
        rig.Time.Advance(TimeSpan.FromMilliseconds(25));
        await match.WaitAsync(2, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        Assert.Equal(2, sim.Steps);

        await rig.TickAsync(match, 5);
        Assert.Equal(7, sim.Steps);
        Assert.Equal(7, sim.Tick);
        Assert.Equal(0, match.Overruns);
    }

    [Fact]
    public async Task A_tick_longer_than_its_period_is_counted_as_an_overrun_and_the_loop_goes_on()
    {
        await using var rig = await CombatRig.StartAsync();
        using var metrics = rig.Metrics();
        await rig.CreateAsync("alice", "loop-2", seed: 102, tickRate: 20);
        await rig.JoinAsync("alice", "loop-2");
        var match = await rig.StartAsync("alice", "loop-2");

        await rig.TickAsync(match);
        // Tick 2 takes three periods of (fake) time.
        rig.Simulations.OnStep = sim =>
        {
            if (sim.Setup.Seed == 102 && sim.Tick == 1)
            {
                rig.Time.Advance(TimeSpan.FromMilliseconds(150));
            }
        };
        await rig.TickAsync(match);
        Assert.Equal(1, match.Overruns);
        await metrics.WaitAsync("daprgame.combat.tick.overruns", null, 1);

        await rig.TickAsync(match, 3);
        Assert.Equal(5, rig.Simulations.Of(102).Steps);
        Assert.Equal(1, match.Overruns);
        Assert.Equal(1, metrics.Sum("daprgame.combat.tick.overruns"));
    }

    [Fact]
    public async Task A_loop_woken_periods_late_counts_the_ticks_it_does_not_make_up_as_an_overrun()
    {
        await using var rig = await CombatRig.StartAsync();
        using var metrics = rig.Metrics();
        await rig.CreateAsync("alice", "loop-5", seed: 105, tickRate: 20);
        await rig.JoinAsync("alice", "loop-5");
        var match = await rig.StartAsync("alice", "loop-5");
        await rig.TickAsync(match);

        // The process stalls for four periods: the loop wakes once, steps once (a fast step) and does not catch up.
        rig.Time.Advance(TimeSpan.FromMilliseconds(200));
        await match.WaitAsync(2, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        Assert.Equal(2, rig.Simulations.Of(105).Steps);
        Assert.Equal(1, match.Overruns);
        await metrics.WaitAsync("daprgame.combat.tick.overruns", null, 1);

        await rig.TickAsync(match, 2);
        Assert.Equal((4, 1L), (rig.Simulations.Of(105).Steps, match.Overruns));
    }

    [Fact]
    public async Task A_running_match_is_taken_over_from_its_journal_when_its_replica_restarts()
    {
        await using var rig = await CombatRig.StartAsync(new() { ["Combat:CheckpointTicks"] = "2" });
        var (token, player) = await rig.GuestAsync("device-survivor-1");
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("loop-4", "deathmatch", "arena", 20, 104));
        var seat = await rig.TicketAsync(token, "loop-4");
        var before = rig.Simulations.Of(104);
        using (var client = await CombatRig.ConnectAsync(seat))
        {
            await client.ReceiveAsync(MatchFrameTypes.Welcome);
            await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches/loop-4/start");
            var match = rig.Runner.Find("loop-4")!;
            await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
            using var metrics = rig.Metrics();
            await client.SendInputAsync(1, 1, seat.Entity, moveX: 700, moveY: -300);
            await metrics.WaitAsync("daprgame.combat.inputs.received", null, 1);
            await rig.TickAsync(match, 3);
            await match.Saving;

            var closing = client.ClosedAsync();
            await rig.RestartCombatAsync();
            var (status, description) = await closing;
            Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable, status);
            Assert.Equal("server restarting", description);
        }

        // The next call activates the actor on the new app, which re-simulates the journal to the state of the last
        // checkpoint it could save: tick 2 (every 2 ticks; the sidecar was gone when the app tried to save tick 3).
        var view = await rig.OkAsync<MatchView>(HttpMethod.Get, CombatRoutes.Match("loop-4"), player);
        Assert.Equal(MatchStatuses.Running, view.Status);
        var resumed = rig.Runner.Find("loop-4") ?? throw new InvalidOperationException("the match was not taken over");
        Assert.NotSame(before, rig.Simulations.Of(104));
        Assert.Equal((2, before.TickHashes[1]), (resumed.Simulation.Tick, resumed.Simulation.StateHash));

        // The player comes back with a fresh ticket to the same seat and gets a full snapshot.
        var again = await rig.TicketAsync(token, "loop-4");
        Assert.Equal(seat.Entity, again.Entity);
        using var back = await CombatRig.ConnectAsync(again);
        Assert.Equal(2, (await back.ReceiveAsync(MatchFrameTypes.Welcome)).WelcomeTick);
        await resumed.WaitAsync(2, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        await rig.TickAsync(resumed);
        var full = await back.ReceiveAsync(MatchFrameTypes.Snapshot);
        Assert.Equal((3, 0, 1u), (full.SnapshotTick, full.SnapshotBaseline, full.SnapshotLastSequence));

        var ended = await rig.OkAsync<MatchView>(HttpMethod.Post, CombatRoutes.End("loop-4"), player);
        Assert.Equal(3, ended.Result!.Ticks);
        var endedEvent = await rig.NextEventAsync(CombatMatchEnded.EventType);
        Assert.True(endedEvent["data"]!["sequence"]!.GetValue<long>() > Matches.MatchRunner.TakeoverSequenceGap, "the stream skips ahead after a takeover");
        var verified = await rig.OkAsync<ReplayVerification>(HttpMethod.Post, CombatRoutes.Replay("loop-4"), "referee", admin: true);
        Assert.True(verified.Matches, $"replay after a takeover: {verified}");
    }

    [Fact]
    public async Task A_loop_whose_match_was_taken_over_elsewhere_stops_at_its_next_checkpoint()
    {
        await using var rig = await CombatRig.StartAsync(new() { ["Combat:CheckpointTicks"] = "2" });
        var (token, _) = await rig.GuestAsync("device-fenced-01");
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("loop-5", "deathmatch", "arena", 20, 105));
        var seat = await rig.TicketAsync(token, "loop-5");
        using var client = await CombatRig.ConnectAsync(seat);
        await client.ReceiveAsync(MatchFrameTypes.Welcome);
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches/loop-5/start");
        var match = rig.Runner.Find("loop-5")!;
        await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        await rig.TickAsync(match, 2);
        await match.Saving;
        Assert.False(match.Superseded);

        // Another replica takes the match over: it writes the journal head.
        var dapr = rig.Combat.Services.GetRequiredService<DaprClient>();
        var head = (await dapr.GetStateAsync<JournalHead>(Components.StateStore, MatchJournal.HeadKey("loop-5"), cancellationToken: TestContext.Current.CancellationToken))!;
        Assert.Equal(2, head.Tick);
        await dapr.SaveStateAsync(Components.StateStore, MatchJournal.HeadKey("loop-5"), head with { Epoch = head.Epoch + 1 }, cancellationToken: TestContext.Current.CancellationToken);

        // At its next checkpoint this loop finds the head is not its own: it stops, and its players go to the new host.
        var closing = client.ClosedAsync();
        await rig.TickAsync(match, 2);
        await match.Saving;
        Assert.True(match.Superseded);
        var (status, description) = await closing;
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.Equal("match moved", description);
        Assert.False(rig.Runner.Hosts("loop-5"));
        Assert.Equal(head.Epoch + 1, (await dapr.GetStateAsync<JournalHead>(Components.StateStore, MatchJournal.HeadKey("loop-5"), cancellationToken: TestContext.Current.CancellationToken))!.Epoch);
    }

    [Fact]
    public async Task A_match_that_ends_by_itself_publishes_its_kills_loot_and_result_and_leaves_a_replay_that_verifies()
    {
        // Four inputs a tick reach the (fake) simulation, so Bob's three speed hacks below are judged in one tick.
        await using var rig = await CombatRig.StartAsync(new() { ["Combat:InputsPerTick"] = "4" });
        var (aliceToken, alice) = await rig.GuestAsync("device-alice-01");
        var (bobToken, bob) = await rig.GuestAsync("device-bob-0001");
        var (status, created) = await rig.GatewayAsync(aliceToken, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("loop-3", "deathmatch", "arena", 20, 103, 4, DurationTicks: 4));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(alice, created.GetProperty("ownerId").GetString());
        var aliceSeat = await rig.TicketAsync(aliceToken, "loop-3");
        var bobSeat = await rig.TicketAsync(bobToken, "loop-3");
        using var aliceSocket = await CombatRig.ConnectAsync(aliceSeat);
        using var bobSocket = await CombatRig.ConnectAsync(bobSeat);
        await aliceSocket.ReceiveAsync(MatchFrameTypes.Welcome);
        await bobSocket.ReceiveAsync(MatchFrameTypes.Welcome);
        var (started, _) = await rig.GatewayAsync(aliceToken, HttpMethod.Post, "/v1/combat/matches/loop-3/start");
        Assert.Equal(HttpStatusCode.OK, started);
        var match = rig.Runner.Find("loop-3")!;
        await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);

        await rig.TickAsync(match);
        using var metrics = rig.Metrics();
        await aliceSocket.SendInputAsync(1, 1, aliceSeat.Entity, moveX: 500);
        await aliceSocket.SendInputAsync(2, 2, aliceSeat.Entity, buttons: InputButtons.Fire);
        // Both inputs are in the loop's queue before the clock moves.
        await metrics.WaitAsync("daprgame.combat.inputs.received", null, 2);
        await rig.TickAsync(match);
        var snapshot = await aliceSocket.ReceiveAsync(MatchFrameTypes.Snapshot, f => f.SnapshotTick == 2);
        Assert.Equal(2u, snapshot.SnapshotLastSequence);

        var killed = await rig.NextEventAsync(CombatPlayerKilled.EventType);
        Assert.Equal(bob, killed["data"]!["victimId"]!.GetValue<string>());
        Assert.Equal(alice, killed["data"]!["killerId"]!.GetValue<string>());
        var loot = await rig.NextEventAsync(CombatLootDropped.EventType);
        Assert.Equal(alice, loot["data"]!["playerId"]!.GetValue<string>());
        Assert.Equal("loot:loop-3:2:0", loot["data"]!["lootId"]!.GetValue<string>());
        Assert.Equal(loot["data"]!["id"]!.GetValue<string>(), loot["id"]!.GetValue<string>());
        // The loop continues the stream after created (1) and started (2).
        Assert.Equal(3, killed["data"]!["sequence"]!.GetValue<long>());
        Assert.Equal(4, loot["data"]!["sequence"]!.GetValue<long>());

        // Bob's client asks for five times full speed, three times: clamped, counted, and flagged once.
        for (uint i = 1; i <= 3; i++)
        {
            await bobSocket.SendInputAsync(i, 2, bobSeat.Entity, moveX: 5000);
        }
        await metrics.WaitAsync("daprgame.combat.inputs.received", null, 5);
        await rig.TickAsync(match);
        Assert.Equal(3, metrics.Sum("daprgame.combat.inputs.rejected", "clampedSpeed"));
        var flagged = await rig.NextEventAsync(CombatCheatFlagged.EventType);
        Assert.Equal(bob, flagged["data"]!["playerId"]!.GetValue<string>());
        Assert.Equal("clampedSpeed", flagged["data"]!["reason"]!.GetValue<string>());
        Assert.Equal((3, 5L), (flagged["data"]!["tick"]!.GetValue<int>(), flagged["data"]!["sequence"]!.GetValue<long>()));

        // Tick 4 is the last (durationTicks 4): the sockets get the end frame, then a normal close.
        await rig.TickAsync(match);
        var end = await aliceSocket.ReceiveAsync(MatchFrameTypes.End);
        Assert.Equal("duration", end.EndJson.GetProperty("reason").GetString());
        Assert.Equal(alice, end.EndJson.GetProperty("result").GetProperty("winners")[0].GetString());
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, (await aliceSocket.ClosedAsync()).Status);

        var ended = await rig.NextEventAsync(CombatMatchEnded.EventType);
        Assert.Equal("duration", ended["data"]!["reason"]!.GetValue<string>());
        Assert.Equal(4, ended["data"]!["ticks"]!.GetValue<int>());
        Assert.Equal(6, ended["data"]!["sequence"]!.GetValue<long>());
        var players = ended["data"]!["players"]!.AsArray();
        Assert.Equal(alice, players[0]!["playerId"]!.GetValue<string>());
        Assert.Equal(1, players[0]!["kills"]!.GetValue<int>());
        Assert.Equal(1, players[1]!["deaths"]!.GetValue<int>());

        var view = await rig.OkAsync<MatchView>(HttpMethod.Get, CombatRoutes.Match("loop-3"), alice);
        Assert.Equal(MatchStatuses.Ended, view.Status);
        Assert.Equal("duration", view.EndReason);

        var replay = await rig.OkAsync<ReplayView>(HttpMethod.Get, CombatRoutes.Replay("loop-3"), "referee", admin: true);
        Assert.Equal(4, replay.Ticks);
        Assert.True(replay.LogBytes > 0);
        var verified = await rig.OkAsync<ReplayVerification>(HttpMethod.Post, CombatRoutes.Replay("loop-3"), "referee", admin: true);
        Assert.True(verified.Matches, $"replay: {verified}");
        Assert.Equal((4, 0, replay.FinalHash), (verified.Ticks, verified.Mismatches, verified.FinalHash));

        // The journal (takeover checkpoints) went with the end; the replay holds everything.
        var dapr = rig.Combat.Services.GetRequiredService<DaprClient>();
        Assert.Null(await dapr.GetStateAsync<JournalHead?>(Components.StateStore, MatchJournal.HeadKey("loop-3"), cancellationToken: TestContext.Current.CancellationToken));

        // A stored replay whose third hash was altered no longer verifies, and says where.
        var stored = (await dapr.GetStateAsync<StoredReplay>(Components.StateStore, ReplayStore.Key("loop-3"), cancellationToken: TestContext.Current.CancellationToken))!;
        stored.Hashes[2] ^= 1;
        await dapr.SaveStateAsync(Components.StateStore, ReplayStore.Key("loop-3"), stored, cancellationToken: TestContext.Current.CancellationToken);
        var tampered = await rig.OkAsync<ReplayVerification>(HttpMethod.Post, CombatRoutes.Replay("loop-3"), "referee", admin: true);
        Assert.False(tampered.Matches);
        Assert.Equal((1, 3), (tampered.Mismatches, tampered.FirstMismatchTick));
    }
}
