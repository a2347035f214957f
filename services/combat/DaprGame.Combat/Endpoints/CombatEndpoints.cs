using System.Security.Cryptography;
using System.Text.RegularExpressions;
using DaprGame.Combat.Actors;
using DaprGame.Combat.Infrastructure;
using DaprGame.Combat.Matches;
using DaprGame.Combat.Socket;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Endpoints;

/// <summary>
/// The routes of <see cref="CombatRoutes"/>. The acting player comes from <see cref="CombatHeaders.PlayerId"/>, believed
/// only on calls the sidecar marks as coming from a trusted app (<c>dapr-caller-app-id</c>, set by the sidecar); the
/// admin role (list, replays) from <see cref="CombatHeaders.Roles"/> on the same calls. The match socket is separate:
/// its ticket is the credential.
/// </summary>
public static partial class CombatEndpoints
{
    private const string CallerHeader = "dapr-caller-app-id";

    public static IEndpointRouteBuilder MapCombatEndpoints(this IEndpointRouteBuilder routes)
    {
        var options = routes.ServiceProvider.GetRequiredService<CombatOptions>();
        var players = routes.MapGroup(string.Empty).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!options.TrustedCallers.Contains(http.Request.Headers[CallerHeader].ToString()))
            {
                return CombatErrors.Problem(CombatErrorCodes.Forbidden, "only the gateway calls the player API (Combat:TrustedCallers)");
            }
            if (Player(http) is null)
            {
                return CombatErrors.Problem(CombatErrorCodes.Unauthenticated, $"header {CombatHeaders.PlayerId} is missing or not a player id");
            }
            return await next(context);
        });

        players.MapPost(CombatRoutes.Matches, async (HttpContext h, CombatActorClient a, ISimulationFactory factory, MatchDirectory directory, TimeProvider time, CreateMatch? body) =>
        {
            if (body is null || string.IsNullOrWhiteSpace(body.Mode) || string.IsNullOrWhiteSpace(body.Map))
            {
                return Invalid("body is a CreateMatch: mode, map, tickRate (10-60), maxPlayers (1-64), durationTicks, scoreLimit, bots");
            }
            if (body.MatchId is { } id && !IdPattern().IsMatch(id))
            {
                return Invalid("matchId is 1-64 of [A-Za-z0-9_-]");
            }
            if (body.TickRate is < 10 or > 60)
            {
                return Invalid($"tickRate is 10-60 Hz, not {body.TickRate}");
            }
            if (body.MaxPlayers is < 1 or > 64 || body.DurationTicks < 0 || body.ScoreLimit < 0 || body.Bots is < 0 or > 64)
            {
                return Invalid("maxPlayers is 1-64; durationTicks, scoreLimit and bots (at most 64) are 0 or more");
            }
            if (!factory.Maps.Contains(body.Map))
            {
                return CombatErrors.Problem(CombatErrorCodes.UnknownMap, $"no map {body.Map}; maps: {string.Join(", ", factory.Maps)}");
            }
            var matchId = body.MatchId ?? "m" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            var seed = body.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
            var reply = await a.CallAsync<CreateCall, CombatReply<MatchView>>(matchId, nameof(IMatch.CreateAsync), new CreateCall(Player(h)!, body with { MatchId = matchId }, seed));
            if (reply.Value is { } view)
            {
                await directory.AddAsync(new MatchSummary(view.MatchId, view.OwnerId, view.Mode, view.Map, view.CreatedAt), h.RequestAborted);
            }
            return CombatErrors.Reply(reply);
        });
        players.MapGet(CombatRoutes.Matches, async (HttpContext h, MatchDirectory directory) =>
            IsAdmin(h) ? TypedResults.Ok(await directory.ListAsync(h.RequestAborted)) : Forbidden());

        players.MapGet(CombatRoutes.Match("{matchId}"), (string matchId, CombatActorClient a) =>
            Match(matchId, async () => CombatErrors.Reply(await a.CallAsync<CombatReply<MatchView>>(matchId, nameof(IMatch.GetAsync)))));
        players.MapPost(CombatRoutes.Join("{matchId}"), (HttpContext h, string matchId, CombatActorClient a) =>
            Match(matchId, async () => CombatErrors.Reply(await a.CallAsync<PlayerCall, CombatReply<JoinView>>(matchId, nameof(IMatch.JoinAsync), Caller(h)))));
        players.MapPost(CombatRoutes.Leave("{matchId}"), (HttpContext h, string matchId, CombatActorClient a) =>
            Match(matchId, async () => CombatErrors.Reply(await a.CallAsync<PlayerCall, CombatReply<MatchView>>(matchId, nameof(IMatch.LeaveAsync), Caller(h)))));
        players.MapPost(CombatRoutes.Start("{matchId}"), (HttpContext h, string matchId, CombatActorClient a) =>
            Match(matchId, async () => CombatErrors.Reply(await a.CallAsync<PlayerCall, CombatReply<MatchView>>(matchId, nameof(IMatch.StartAsync), Caller(h)))));
        players.MapPost(CombatRoutes.End("{matchId}"), (HttpContext h, string matchId, CombatActorClient a) =>
            Match(matchId, async () => CombatErrors.Reply(await a.CallAsync<PlayerCall, CombatReply<MatchView>>(matchId, nameof(IMatch.EndAsync), Caller(h)))));

        players.MapGet(CombatRoutes.Replay("{matchId}"), (HttpContext h, string matchId, ReplayStore replays) =>
            !IsAdmin(h) ? Task.FromResult(Forbidden()) : Match(matchId, async () =>
                await replays.GetAsync(matchId, h.RequestAborted) is { } r
                    ? TypedResults.Ok(new ReplayView(r.MatchId, r.Mode, r.Map, r.TickRate, r.Seed, r.Ticks, MatchRunner.Hex(r.FinalHash), r.Log.Length, r.StoredAt))
                    : NoReplay(matchId)));
        players.MapPost(CombatRoutes.Replay("{matchId}"), (HttpContext h, string matchId, ReplayStore replays, ISimulationFactory factory) =>
            !IsAdmin(h) ? Task.FromResult(Forbidden()) : Match(matchId, async () =>
            {
                if (await replays.GetAsync(matchId, h.RequestAborted) is not { } r)
                {
                    return NoReplay(matchId);
                }
                var outcome = factory.Verify(r.Log, r.Hashes);
                return TypedResults.Ok(new ReplayVerification(matchId, outcome.Ticks, MatchRunner.Hex(outcome.FinalHash), outcome.Mismatches, outcome.FirstMismatchTick,
                    outcome.Mismatches == 0 && outcome.FinalHash == r.FinalHash && outcome.Ticks == r.Ticks));
            }));

        routes.Map(CombatRoutes.Socket, (HttpContext context, MatchSocketHandler handler) => handler.HandleAsync(context));
        return routes;
    }

    private static Task<IResult> Match(string matchId, Func<Task<IResult>> next) =>
        IdPattern().IsMatch(matchId) ? next() : Task.FromResult(Invalid("not a match id"));

    private static PlayerCall Caller(HttpContext h) => new(Player(h)!, IsAdmin(h));

    private static string? Player(HttpContext http) =>
        http.Request.Headers[CombatHeaders.PlayerId].ToString() is { Length: > 0 } id && IdPattern().IsMatch(id) ? id : null;

    private static bool IsAdmin(HttpContext http) =>
        http.Request.Headers[CombatHeaders.Roles].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains("admin");

    private static IResult Invalid(string message) => CombatErrors.Problem(CombatErrorCodes.Invalid, message);

    private static IResult Forbidden() => CombatErrors.Problem(CombatErrorCodes.Forbidden, "this needs the admin role");

    private static IResult NoReplay(string matchId) => CombatErrors.Problem(CombatErrorCodes.NotFound, $"no replay of match {matchId} (it has not ended)");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}
