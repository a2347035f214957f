using System.Net;
using System.Net.WebSockets;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Tests;

/// <summary>
/// The match socket with tickets from the real gateway: welcome and snapshots, refused tickets, bad frames, floods and
/// reconnection — and in every case the match goes on ticking for the others.
/// </summary>
public sealed class MatchSocketTests
{
    [Fact]
    public async Task A_valid_ticket_gets_a_welcome_then_full_then_delta_snapshots_with_the_last_processed_input()
    {
        await using var rig = await CombatRig.StartAsync();
        var (token, player) = await rig.GuestAsync("device-socket-1");
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("sock-1", "deathmatch", "arena", 20, 201));
        var seat = await rig.TicketAsync(token, "sock-1");
        Assert.Equal(player, seat.PlayerId);
        Assert.Equal($"ws://127.0.0.1:{rig.Combat.AppPort}/match", seat.Address);

        using var client = await CombatRig.ConnectAsync(seat);
        var welcome = await client.ReceiveAsync(MatchFrameTypes.Welcome);
        Assert.Equal(seat.Entity, welcome.WelcomeEntity);
        Assert.Equal(20, welcome.WelcomeTickRate);
        Assert.Equal(0, welcome.WelcomeTick);

        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches/sock-1/start");
        var match = rig.Runner.Find("sock-1")!;
        await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        using var metrics = rig.Metrics();
        await client.SendInputAsync(7, 1, seat.Entity, moveX: 300);
        await metrics.WaitAsync("daprgame.combat.inputs.received", null, 1);
        await rig.TickAsync(match);

        var first = await client.ReceiveAsync(MatchFrameTypes.Snapshot);
        Assert.Equal((1, 0, 7u), (first.SnapshotTick, first.SnapshotBaseline, first.SnapshotLastSequence));
        Assert.Equal(0, first.SnapshotBody[0]);   // full
        // Frames are read in order: once the input after the ack is counted, the ack is in.
        await client.AckAsync(1);
        await client.SendInputAsync(8, 2, seat.Entity, moveX: 300);
        await metrics.WaitAsync("daprgame.combat.inputs.received", null, 2);
        await rig.TickAsync(match);
        var delta = await client.ReceiveAsync(MatchFrameTypes.Snapshot, f => f.SnapshotTick == 2);
        Assert.Equal((1, 8u), (delta.SnapshotBaseline, delta.SnapshotLastSequence));
        Assert.Equal(1, delta.SnapshotBody[0]);   // delta
        Assert.True(metrics.Sum("daprgame.combat.socket.bytes_sent") > 0);
    }

    [Fact]
    public async Task Wrong_expired_replayed_and_other_match_tickets_are_refused_and_the_match_keeps_ticking()
    {
        await using var rig = await CombatRig.StartAsync();
        using var metrics = rig.Metrics();
        var (ownerToken, _) = await rig.GuestAsync("device-owner-01");
        var (otherToken, _) = await rig.GuestAsync("device-other-01");
        await rig.GatewayAsync(ownerToken, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("sock-a", "deathmatch", "arena", 20, 202));
        await rig.GatewayAsync(otherToken, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("sock-b", "deathmatch", "arena", 20, 203));
        var ownerSeat = await rig.TicketAsync(ownerToken, "sock-a");
        using var owner = await CombatRig.ConnectAsync(ownerSeat);
        await owner.ReceiveAsync(MatchFrameTypes.Welcome);
        await rig.GatewayAsync(ownerToken, HttpMethod.Post, "/v1/combat/matches/sock-a/start");
        var match = rig.Runner.Find("sock-a")!;
        await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);

        // A ticket whose signature was altered (last character of the signature part).
        var good = await rig.TicketAsync(otherToken, "sock-b");
        var forged = good.Ticket[..^2] + (good.Ticket[^2] == 'A' ? "B" : "A") + good.Ticket[^1];
        await AssertRefusedAsync(rig.ConnectRawAsync("sock-b", forged), "ticket: signature");
        // A ticket for match B presented for match A.
        await AssertRefusedAsync(CombatRig.ConnectAsync(good, matchParameter: "sock-a"), "ticket: other_match");
        // A valid ticket of a player who has left the match since gets nowhere.
        var stale = await rig.TicketAsync(otherToken, "sock-b");
        Assert.Equal(HttpStatusCode.OK, (await rig.GatewayAsync(otherToken, HttpMethod.Post, "/v1/combat/matches/sock-b/leave")).Status);
        await AssertRefusedAsync(CombatRig.ConnectAsync(stale), "ticket: not_in_match");
        await rig.TicketAsync(otherToken, "sock-b");
        // Garbage, and a ticket used twice.
        await AssertRefusedAsync(rig.ConnectRawAsync("sock-a", "not.a.ticket"), "ticket: malformed");
        var once = await rig.TicketAsync(otherToken, "sock-b");
        using (var first = await CombatRig.ConnectAsync(once))
        {
            await first.ReceiveAsync(MatchFrameTypes.Welcome);
        }
        await AssertRefusedAsync(CombatRig.ConnectAsync(once), "ticket: replayed");
        // An expired one: 30 s of lifetime and 5 s of skew later.
        var late = await rig.TicketAsync(ownerToken, "sock-a");
        rig.Time.Advance(TimeSpan.FromSeconds(36));
        await AssertRefusedAsync(CombatRig.ConnectAsync(late), "ticket: expired");
        Assert.Equal(6, metrics.Sum("daprgame.combat.tickets.refused"));

        // The match did not notice: the owner's socket still gets every tick.
        await match.WaitAsync(1, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        await rig.TickAsync(match, 2);
        var snapshot = await owner.ReceiveAsync(MatchFrameTypes.Snapshot, f => f.SnapshotTick == 3);
        Assert.Equal(0u, snapshot.SnapshotLastSequence);
        Assert.Equal(MatchStatuses.Running, (await rig.OkAsync<MatchView>(HttpMethod.Get, CombatRoutes.Match("sock-a"), "x")).Status);
    }

    [Fact]
    public async Task Malformed_and_oversize_frames_are_dropped_and_counted_and_enough_of_them_close_only_that_socket()
    {
        await using var rig = await CombatRig.StartAsync(new() { ["Combat:MaxBadFrames"] = "4" });
        using var metrics = rig.Metrics();
        var (token, _) = await rig.GuestAsync("device-noisy-01");
        var (calmToken, _) = await rig.GuestAsync("device-calm-001");
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("sock-c", "deathmatch", "arena", 20, 204));
        var seat = await rig.TicketAsync(token, "sock-c");
        var calmSeat = await rig.TicketAsync(calmToken, "sock-c");
        using var noisy = await CombatRig.ConnectAsync(seat);
        using var calm = await CombatRig.ConnectAsync(calmSeat);
        await noisy.ReceiveAsync(MatchFrameTypes.Welcome);
        await calm.ReceiveAsync(MatchFrameTypes.Welcome);
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches/sock-c/start");
        var match = rig.Runner.Find("sock-c")!;
        await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);

        await noisy.SendAsync([MatchFrameTypes.Input, 1, 2]);          // too short
        await noisy.SendTextAsync("{\"move\": 1}");                      // not binary
        await noisy.SendAsync(new byte[300]);                            // oversize
        await metrics.WaitAsync("daprgame.combat.frames.dropped", "malformed", 2);
        await metrics.WaitAsync("daprgame.combat.frames.dropped", "oversize", 1);

        // Still connected, still playing: a good input after the bad ones is processed.
        await noisy.SendInputAsync(5, 1, seat.Entity, moveY: 200);
        await metrics.WaitAsync("daprgame.combat.inputs.received", null, 1);
        await rig.TickAsync(match);
        var snapshot = await noisy.ReceiveAsync(MatchFrameTypes.Snapshot);
        Assert.Equal(5u, snapshot.SnapshotLastSequence);

        // The fourth bad frame closes the noisy socket (policy), and only it.
        await noisy.SendAsync([0x7F, 0, 0, 0, 0]);
        var (status, description) = await noisy.ClosedAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("too many malformed frames", description);
        await rig.TickAsync(match);
        Assert.Equal(2, (await calm.ReceiveAsync(MatchFrameTypes.Snapshot, f => f.SnapshotTick == 2)).SnapshotTick);
    }

    [Fact]
    public async Task A_flooding_client_has_its_extra_inputs_dropped_and_counted_without_slowing_the_loop()
    {
        await using var rig = await CombatRig.StartAsync(new() { ["Combat:InputQueue"] = "8", ["Combat:InputsPerTick"] = "2" });
        using var metrics = rig.Metrics();
        var (token, _) = await rig.GuestAsync("device-flood-01");
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("sock-f", "deathmatch", "arena", 20, 205));
        var seat = await rig.TicketAsync(token, "sock-f");
        using var client = await CombatRig.ConnectAsync(seat);
        await client.ReceiveAsync(MatchFrameTypes.Welcome);
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches/sock-f/start");
        var match = rig.Runner.Find("sock-f")!;
        await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);

        for (uint i = 1; i <= 20; i++)
        {
            await client.SendInputAsync(i, 1, seat.Entity, moveX: 10);
        }
        await metrics.WaitAsync("daprgame.combat.inputs.received", null, 8);
        await metrics.WaitAsync("daprgame.combat.inputs.rejected", "flood", 12);

        // Two inputs a tick: after one tick the simulation has processed sequence 2, after four ticks all eight kept.
        await rig.TickAsync(match);
        Assert.Equal(2u, (await client.ReceiveAsync(MatchFrameTypes.Snapshot)).SnapshotLastSequence);
        await rig.TickAsync(match, 3);
        Assert.Equal(8u, (await client.ReceiveAsync(MatchFrameTypes.Snapshot, f => f.SnapshotTick == 4)).SnapshotLastSequence);
        Assert.Equal(0, match.Overruns);
    }

    [Fact]
    public async Task A_player_who_reconnects_within_the_grace_gets_a_full_snapshot_and_after_it_has_left()
    {
        await using var rig = await CombatRig.StartAsync();
        var (token, player) = await rig.GuestAsync("device-phone-01");
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("sock-r", "deathmatch", "arena", 20, 206));
        var seat = await rig.TicketAsync(token, "sock-r");
        var client = await CombatRig.ConnectAsync(seat);
        await client.ReceiveAsync(MatchFrameTypes.Welcome);
        await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches/sock-r/start");
        var match = rig.Runner.Find("sock-r")!;
        await match.WaitAsync(0, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        using var metrics = rig.Metrics();
        await rig.TickAsync(match);
        await client.ReceiveAsync(MatchFrameTypes.Snapshot);
        await client.AckAsync(1);
        await client.SendInputAsync(1, 1, seat.Entity);
        await metrics.WaitAsync("daprgame.combat.inputs.received", null, 1);
        await rig.TickAsync(match, 2);
        Assert.Equal(1, (await client.ReceiveAsync(MatchFrameTypes.Snapshot, f => f.SnapshotTick == 3)).SnapshotBaseline);

        // The phone drops the connection; five seconds later (within the 10 s grace) it is back with a fresh ticket.
        await client.CloseAsync();
        client.Dispose();
        rig.Time.Advance(TimeSpan.FromSeconds(5));
        await match.WaitAsync(4, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        var again = await rig.TicketAsync(token, "sock-r");
        Assert.Equal(seat.Entity, again.Entity);
        using (var back = await CombatRig.ConnectAsync(again))
        {
            var welcome = await back.ReceiveAsync(MatchFrameTypes.Welcome);
            Assert.Equal(seat.Entity, welcome.WelcomeEntity);
            Assert.Equal(4, welcome.WelcomeTick);
            await rig.TickAsync(match);
            var full = await back.ReceiveAsync(MatchFrameTypes.Snapshot);
            Assert.Equal((5, 0), (full.SnapshotTick, full.SnapshotBaseline));
            Assert.Equal(0, full.SnapshotBody[0]);
            await back.CloseAsync();
        }

        // Gone longer than the grace: the player has left; an old ticket gets nowhere, joining again is a new entity.
        var old = await rig.TicketAsync(token, "sock-r");
        rig.Time.Advance(TimeSpan.FromSeconds(11));
        await match.WaitAsync(6, parked: true).WaitAsync(CombatRig.WaitLimit, TestContext.Current.CancellationToken);
        await AssertRefusedAsync(CombatRig.ConnectAsync(old), "ticket: not_in_match");
        var rejoined = await rig.TicketAsync(token, "sock-r");
        Assert.Equal(player, rejoined.PlayerId);
        Assert.NotEqual(seat.Entity, rejoined.Entity);
        using var fresh = await CombatRig.ConnectAsync(rejoined);
        Assert.Equal(rejoined.Entity, (await fresh.ReceiveAsync(MatchFrameTypes.Welcome)).WelcomeEntity);
    }

    [Fact]
    public async Task The_gateway_takes_the_player_from_the_token_not_from_the_client()
    {
        await using var rig = await CombatRig.StartAsync();
        var (token, player) = await rig.GuestAsync("device-honest-1");
        var (anonymous, _) = await rig.GatewayAsync(null, HttpMethod.Post, "/v1/combat/matches/any/join");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);

        var (status, created) = await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("gw-1", "deathmatch", "arena", 20, 301),
            r => r.Headers.Add(CombatHeaders.PlayerId, "someone-else"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(player, created.GetProperty("ownerId").GetString());
        var (bad, problem) = await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches", new CreateMatch("gw-2", "deathmatch", "arena", 5, 1));
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Equal(CombatErrorCodes.Invalid, problem.GetProperty("code").GetString());
        var (full, fullProblem) = await rig.GatewayAsync(token, HttpMethod.Post, "/v1/combat/matches/nope/join");
        Assert.Equal(HttpStatusCode.NotFound, full);
        Assert.Equal(CombatErrorCodes.NotFound, fullProblem.GetProperty("code").GetString());

        var ticket = await rig.TicketAsync(token, "gw-1");
        Assert.Equal(player, ticket.PlayerId);
        Assert.InRange(ticket.TicketExpiresAt - rig.Time.GetUtcNow(), TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(31));
        using var client = await CombatRig.ConnectAsync(ticket);
        Assert.Equal(ticket.Entity, (await client.ReceiveAsync(MatchFrameTypes.Welcome)).WelcomeEntity);
    }

    private static async Task AssertRefusedAsync(Task<MatchClient> connecting, string reason)
    {
        using var client = await connecting;
        var (status, description) = await client.ClosedAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal(reason, description);
    }
}
