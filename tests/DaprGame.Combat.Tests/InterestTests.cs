using DaprGame.Combat.Domain;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Tests;

/// <summary>What reaches a player's socket with the real simulation: only what the interest filter lets through.</summary>
public sealed class InterestTests
{
    // The simulation's default interest radius (48 world units) in snapshot units (sixteenths of a unit).
    private const long Radius = 48 * 16;

    [Fact]
    public async Task An_enemy_beyond_the_interest_radius_never_reaches_the_other_players_socket()
    {
        await using var rig = await CombatRig.StartAsync(realSimulation: true);
        var (hunterToken, _) = await rig.GuestAsync("device-hunter-01");
        var (hiderToken, _) = await rig.GuestAsync("device-hider-001");
        // A 512 × 512 field, two players and forty wandering bots: spawns are far apart, bots come and go from view.
        var (status, body) = await rig.GatewayAsync(hunterToken, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("hide-1", "deathmatch", "field", 20, 77, 2, Bots: 40));
        Assert.True(status == System.Net.HttpStatusCode.OK || status == System.Net.HttpStatusCode.Created, body.ToString());
        var hunterSeat = await rig.TicketAsync(hunterToken, "hide-1");
        var hiderSeat = await rig.TicketAsync(hiderToken, "hide-1");
        using var hunter = await CombatRig.ConnectAsync(hunterSeat);
        using var hider = await CombatRig.ConnectAsync(hiderSeat);
        await hunter.ReceiveAsync(MatchFrameTypes.Welcome);
        await hider.ReceiveAsync(MatchFrameTypes.Welcome);
        await rig.GatewayAsync(hunterToken, HttpMethod.Post, "/v1/combat/matches/hide-1/start");
        var match = rig.Runner.Find("hide-1")!;
        await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);

        var views = new[] { (Client: hunter, Seat: hunterSeat, View: new SnapshotView()), (Client: hider, Seat: hiderSeat, View: new SnapshotView()) };
        var hiddenTicks = 0;
        var botsSeenComingAndGoing = new HashSet<int>();
        var seenBefore = new HashSet<int>();
        for (var tick = 1; tick <= 100; tick++)
        {
            await rig.TickAsync(match);
            foreach (var (client, seat, view) in views)
            {
                var frame = await client.ReceiveAsync(MatchFrameTypes.Snapshot, f => f.SnapshotTick == tick);
                view.Apply(frame.SnapshotBody);
                await client.AckAsync(tick);
            }
            var hunterView = views[0].View;
            var hiderView = views[1].View;
            var me = hunterView.Entities[hunterSeat.Entity];
            var them = hiderView.Entities[hiderSeat.Entity];
            // Nothing in a player's view is beyond the radius but the player itself (deathmatch: no team-mates).
            foreach (var (_, seat, view) in views)
            {
                var own = view.Entities[seat.Entity];
                Assert.All(view.Entities.Values.Where(e => e.Id != own.Id), e => Assert.True(Distance2(e, own) <= Radius * Radius,
                    $"tick {tick}: entity {e.Id} at {Math.Sqrt(Distance2(e, own)) / 16:0.0} units reached the socket of entity {own.Id}"));
            }
            if (Distance2(me, them) > Radius * Radius)
            {
                hiddenTicks++;
                Assert.False(hunterView.Entities.ContainsKey(hiderSeat.Entity), $"tick {tick}: the hidden enemy reached the hunter's socket");
                Assert.False(hiderView.Entities.ContainsKey(hunterSeat.Entity), $"tick {tick}: the hidden enemy reached the hider's socket");
            }
            foreach (var id in hunterView.Entities.Keys.Where(id => id != hunterSeat.Entity))
            {
                seenBefore.Add(id);
            }
            botsSeenComingAndGoing.UnionWith(seenBefore.Where(id => !hunterView.Entities.ContainsKey(id)));
        }

        Assert.Equal(100, hiddenTicks);   // the two spawned far apart and never closed the distance
        Assert.NotEmpty(seenBefore);      // the filter lets nearby entities through…
        Assert.NotEmpty(botsSeenComingAndGoing);   // …and takes them away again when they wander off
    }

    private static long Distance2(EntityView a, EntityView b) => (long)(a.X - b.X) * (a.X - b.X) + (long)(a.Y - b.Y) * (a.Y - b.Y);
}

/// <summary>Determinism across a process restart, with the real simulation.</summary>
public sealed class RestartDeterminismTests
{
    [Fact]
    public async Task A_match_resumed_after_a_restart_replays_tick_for_tick_to_the_same_hashes()
    {
        await using var rig = await CombatRig.StartAsync(new() { ["Combat:CheckpointTicks"] = "5" }, realSimulation: true);
        var (token, player) = await rig.GuestAsync("device-restart-01");
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("restart-1", "deathmatch", "arena", 20, 99, 2, Bots: 12));
        var seat = await rig.TicketAsync(token, "restart-1");
        ulong hashAtCheckpoint;
        using (var client = await CombatRig.ConnectAsync(seat))
        {
            await client.ReceiveAsync(MatchFrameTypes.Welcome);
            await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches/restart-1/start");
            var match = rig.Runner.Find("restart-1")!;
            await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
            using var metrics = rig.Metrics();
            for (var tick = 1; tick <= 12; tick++)
            {
                await client.SendInputAsync((uint)tick, tick, seat.Entity, moveX: 600, moveY: (short)(tick % 3 == 0 ? -400 : 200),
                    buttons: tick % 6 == 0 ? InputButtons.Fire : InputButtons.None);
                await metrics.WaitAsync("daprgame.combat.inputs.received", null, tick);
                await rig.TickAsync(match);
            }
            await match.Saving;
            hashAtCheckpoint = match.Simulation.TickHashes[9];   // tick 10, the last checkpoint (every 5 ticks)
            await rig.RestartCombatAsync();
        }

        // The new process re-simulates the journal (bots, inputs and all) to the checkpoint's state…
        await rig.OkAsync<MatchView>(HttpMethod.Get, CombatRoutes.Match("restart-1"), player);
        var resumed = rig.Runner.Find("restart-1") ?? throw new InvalidOperationException("the match was not taken over");
        Assert.Equal((10, hashAtCheckpoint), (resumed.Simulation.Tick, resumed.Simulation.StateHash));
        await resumed.WaitAsync(10, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        await rig.TickAsync(resumed, 20);

        // …and the whole match, before and after the restart, replays from its log to the same hash at every tick.
        var ended = await rig.OkAsync<MatchView>(HttpMethod.Post, CombatRoutes.End("restart-1"), player);
        Assert.Equal(30, ended.Result!.Ticks);
        var verified = await rig.OkAsync<ReplayVerification>(HttpMethod.Post, CombatRoutes.Replay("restart-1"), "referee", admin: true);
        Assert.True(verified.Matches, $"replay after a restart: {verified}");
        Assert.Equal((30, 0), (verified.Ticks, verified.Mismatches));
    }
}
