using System.Net;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Tests;

/// <summary>The match API as the gateway calls it: validation, seats, ownership, typed errors, and the lifecycle events.</summary>
public sealed class MatchHttpTests
{
    [Fact]
    public async Task Create_refuses_bad_setups_with_typed_errors_and_creates_a_lobby_on_this_replica()
    {
        await using var rig = await CombatRig.StartAsync();

        foreach (var rate in new[] { 5, 9, 61, 100 })
        {
            var problem = await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Matches, "alice", new CreateMatch("m-rate", "deathmatch", "arena", rate, 1), HttpStatusCode.BadRequest, CombatErrorCodes.Invalid);
            Assert.Contains("10-60", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Matches, "alice", new CreateMatch("m-map", "deathmatch", "atlantis", 20, 1), HttpStatusCode.BadRequest, CombatErrorCodes.UnknownMap);
        // The simulation's own validation (here: the mode) is a 400 too.
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Matches, "alice", new CreateMatch("m-mode", "capture-the-flag", "arena", 20, 1), HttpStatusCode.BadRequest, CombatErrorCodes.Invalid);
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Matches, "alice", new CreateMatch("m-max", "deathmatch", "arena", 20, 1, MaxPlayers: 0), HttpStatusCode.BadRequest, CombatErrorCodes.Invalid);
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Matches, "alice", new CreateMatch("bad id!", "deathmatch", "arena", 20, 1), HttpStatusCode.BadRequest, CombatErrorCodes.Invalid);
        // None of the refused ones exists.
        await rig.ProblemAsync(HttpMethod.Get, CombatRoutes.Match("m-rate"), "alice", null, HttpStatusCode.NotFound, CombatErrorCodes.NotFound);

        var match = await rig.CreateAsync("alice", "m-1", seed: 11);
        Assert.Equal(MatchStatuses.Lobby, match.Status);
        Assert.Equal("alice", match.OwnerId);
        Assert.Equal($"ws://127.0.0.1:{rig.Combat.AppPort}/match", match.Address);
        Assert.True(rig.Runner.Hosts("m-1"));
        // Creating again is idempotent for the owner; another player cannot take the id.
        Assert.Equal(match.CreatedAt, (await rig.CreateAsync("alice", "m-1", seed: 11)).CreatedAt);
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Matches, "bob", new CreateMatch("m-1", "deathmatch", "arena", 20, 5), HttpStatusCode.Conflict, CombatErrorCodes.Conflict);
    }

    [Fact]
    public async Task Joining_gives_a_seat_once_and_refuses_full_and_ended_matches()
    {
        await using var rig = await CombatRig.StartAsync();
        await rig.CreateAsync("alice", "m-2", seed: 21, maxPlayers: 2);

        var a = await rig.JoinAsync("alice", "m-2");
        var b = await rig.JoinAsync("bob", "m-2");
        Assert.Equal((0, 1), (a.Slot, b.Slot));
        Assert.NotEqual(a.Entity, b.Entity);
        Assert.Equal(a, await rig.JoinAsync("alice", "m-2"));
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Join("m-2"), "carol", null, HttpStatusCode.Conflict, CombatErrorCodes.MatchFull);

        // Bob leaves: his slot is free again.
        await rig.OkAsync<MatchView>(HttpMethod.Post, CombatRoutes.Leave("m-2"), "bob");
        var c = await rig.JoinAsync("carol", "m-2");
        Assert.Equal(1, c.Slot);

        await rig.StartAsync("alice", "m-2");
        var ended = await rig.OkAsync<MatchView>(HttpMethod.Post, CombatRoutes.End("m-2"), "alice");
        Assert.Equal(MatchStatuses.Ended, ended.Status);
        Assert.Equal("ended_by_owner", ended.EndReason);
        Assert.NotNull(ended.Result);
        Assert.False(rig.Runner.Hosts("m-2"));

        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Join("m-2"), "dave", null, HttpStatusCode.Conflict, CombatErrorCodes.WrongState);
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Start("m-2"), "alice", null, HttpStatusCode.Conflict, CombatErrorCodes.WrongState);
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.End("m-2"), "alice", null, HttpStatusCode.Conflict, CombatErrorCodes.WrongState);
    }

    [Fact]
    public async Task Players_cannot_run_other_players_matches_and_only_the_gateway_speaks_for_players()
    {
        await using var rig = await CombatRig.StartAsync();
        await rig.CreateAsync("alice", "m-3", seed: 31);
        await rig.JoinAsync("bob", "m-3");

        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Start("m-3"), "bob", null, HttpStatusCode.Forbidden, CombatErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.End("m-3"), "bob", null, HttpStatusCode.Forbidden, CombatErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Leave("m-3"), "carol", null, HttpStatusCode.NotFound, CombatErrorCodes.NotFound);
        await rig.ProblemAsync(HttpMethod.Get, CombatRoutes.Match("nope"), "bob", null, HttpStatusCode.NotFound, CombatErrorCodes.NotFound);
        await rig.ProblemAsync(HttpMethod.Get, CombatRoutes.Matches, "bob", null, HttpStatusCode.Forbidden, CombatErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Get, CombatRoutes.Replay("m-3"), "bob", null, HttpStatusCode.Forbidden, CombatErrorCodes.Forbidden);
        // Another app cannot act as a player; the gateway must name one.
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Start("m-3"), "alice", null, HttpStatusCode.Forbidden, CombatErrorCodes.Forbidden, asRecorder: true);
        await rig.ProblemAsync(HttpMethod.Post, CombatRoutes.Start("m-3"), null, null, HttpStatusCode.Unauthorized, CombatErrorCodes.Unauthenticated);
        Assert.Equal(MatchStatuses.Lobby, (await rig.OkAsync<MatchView>(HttpMethod.Get, CombatRoutes.Match("m-3"), "bob")).Status);

        // An admin may start anyone's match and list them.
        Assert.Equal(MatchStatuses.Running, (await rig.OkAsync<MatchView>(HttpMethod.Post, CombatRoutes.Start("m-3"), "referee", admin: true)).Status);
        var list = await rig.OkAsync<List<MatchSummary>>(HttpMethod.Get, CombatRoutes.Matches, "referee", admin: true);
        Assert.Contains(list, m => m.MatchId == "m-3" && m.OwnerId == "alice");
    }

    [Fact]
    public async Task Created_started_and_ended_are_published_in_the_match_stream()
    {
        await using var rig = await CombatRig.StartAsync();
        await rig.CreateAsync("alice", "m-4", seed: 41);
        await rig.JoinAsync("alice", "m-4");
        var match = await rig.StartAsync("alice", "m-4");
        await rig.TickAsync(match, 2);
        await rig.OkAsync<MatchView>(HttpMethod.Post, CombatRoutes.End("m-4"), "alice");

        var created = await rig.NextEventAsync(CombatMatchCreated.EventType);
        var started = await rig.NextEventAsync(CombatMatchStarted.EventType);
        var ended = await rig.NextEventAsync(CombatMatchEnded.EventType);
        Assert.Equal("combat/match/m-4:1", created["id"]!.GetValue<string>());
        Assert.Equal("alice", created["data"]!["ownerId"]!.GetValue<string>());
        Assert.Equal(20, created["data"]!["tickRate"]!.GetValue<int>());
        Assert.Equal(2, started["data"]!["sequence"]!.GetValue<long>());
        Assert.Equal("alice", started["data"]!["players"]![0]!.GetValue<string>());
        Assert.Equal(3, ended["data"]!["sequence"]!.GetValue<long>());
        Assert.Equal("combat/match/m-4", ended["data"]!["streamId"]!.GetValue<string>());
        Assert.Equal("ended_by_owner", ended["data"]!["reason"]!.GetValue<string>());
        Assert.Equal(2, ended["data"]!["ticks"]!.GetValue<int>());
        Assert.Equal(rig.Simulations.Of(41).StateHash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), ended["data"]!["finalHash"]!.GetValue<string>());
    }
}
