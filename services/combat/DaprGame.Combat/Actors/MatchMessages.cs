using System.Text.Json;
using Dapr.Actors;
using Dapr.Actors.Client;
using DaprGame.Combat.Infrastructure;
using DaprGame.Contracts.Combat;
using DaprGame.Hosting;

namespace DaprGame.Combat.Actors;

/// <summary>A refusal: a <see cref="CombatErrorCodes"/> code and a message for people.</summary>
public sealed record CombatError(string Code, string Message);

/// <summary>An actor's answer: the value or the refusal, as data, so the HTTP edge maps refusals once.</summary>
public sealed record CombatReply<T>(T? Value, CombatError? Error);

public static class Reply
{
    public static CombatReply<T> Ok<T>(T value) => new(value, null);

    public static CombatReply<T> Fail<T>(string code, string message) => new(default, new CombatError(code, message));
}

/// <summary>The acting player, as the gateway vouched for them.</summary>
public sealed record PlayerCall(string PlayerId, bool Admin = false);

public sealed record CreateCall(string PlayerId, CreateMatch Match, ulong Seed);

/// <summary>How a match loop ended, reported by the replica that ran it. <see cref="EventSequence"/> is the last it used.</summary>
public sealed record FinishCall(string Reason, int Ticks, ulong FinalHash, List<CombatPlayerResult> Players, List<string> Winners, long EventSequence);

/// <summary>One match (actor type <c>Match</c>, id = match id): its setup, players, status, host and result.</summary>
public interface IMatch : IActor
{
    Task<CombatReply<MatchView>> CreateAsync(CreateCall call);

    Task<CombatReply<JoinView>> JoinAsync(PlayerCall call);

    Task<CombatReply<MatchView>> LeaveAsync(PlayerCall call);

    Task<CombatReply<MatchView>> StartAsync(PlayerCall call);

    Task<CombatReply<MatchView>> EndAsync(PlayerCall call);

    Task<CombatReply<MatchView>> GetAsync();

    /// <summary>From the match loop: the simulation said the match is over (the replay is already stored).</summary>
    Task FinishAsync(FinishCall call);
}

/// <summary>Calls the Match actor through this app's own sidecar, by method name with JSON bodies.</summary>
public sealed class CombatActorClient(DaprEndpoints endpoints)
{
    public const string MatchType = "Match";

    /// <summary>Actor bodies and state use the wire options (camelCase, enums as strings).</summary>
    public static JsonSerializerOptions Json { get; } = new(ServiceDefaults.JsonOptions);

    private readonly ActorProxyFactory _factory = new(new ActorProxyOptions
    {
        HttpEndpoint = endpoints.Http,
        DaprApiToken = endpoints.ApiToken,
        JsonSerializerOptions = Json,
        RequestTimeout = TimeSpan.FromSeconds(30),
    });

    public Task<TResult> CallAsync<TCall, TResult>(string id, string method, TCall call, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(id), MatchType).InvokeMethodAsync<TCall, TResult>(method, call, cancellationToken);

    public Task<TResult> CallAsync<TResult>(string id, string method, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(id), MatchType).InvokeMethodAsync<TResult>(method, cancellationToken);

    public Task CallAsync<TCall>(string id, string method, TCall call, CancellationToken cancellationToken = default) =>
        _factory.Create(new ActorId(id), MatchType).InvokeMethodAsync(method, call, cancellationToken);
}

/// <summary>A player's seat as the actor keeps it.</summary>
public sealed class PlayerRecord
{
    public required string PlayerId { get; set; }

    public int Slot { get; set; }

    public int Team { get; set; }

    public int Entity { get; set; }

    public bool Left { get; set; }

    public MatchPlayerView View() => new(PlayerId, Slot, Team, Entity, Left);
}

/// <summary>Everything the Match actor saves, in one key; the outbox is saved with the change that filled it.</summary>
public sealed class MatchState
{
    public string MatchId { get; set; } = "";

    public string OwnerId { get; set; } = "";

    public string Status { get; set; } = MatchStatuses.Lobby;

    public string Mode { get; set; } = "";

    public string Map { get; set; } = "";

    public int TickRate { get; set; }

    public ulong Seed { get; set; }

    public int MaxPlayers { get; set; }

    public int DurationTicks { get; set; }

    public int ScoreLimit { get; set; }

    public int Bots { get; set; }

    public List<PlayerRecord> Players { get; set; } = [];

    /// <summary>The replica that holds the simulation and runs the loop.</summary>
    public string Replica { get; set; } = "";

    /// <summary>That replica's match socket.</summary>
    public string Address { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public string? EndReason { get; set; }

    public MatchResultView? Result { get; set; }

    public long EventSequence { get; set; }

    public List<StoredEvent> Outbox { get; set; } = [];

    public Domain.MatchSetup Setup() => new(Mode, Map, TickRate, Seed, MaxPlayers, DurationTicks, ScoreLimit, Bots);

    public MatchView View() => new(MatchId, OwnerId, Status, Mode, Map, TickRate, Seed, MaxPlayers, DurationTicks, ScoreLimit, Bots,
        [.. Players.Select(p => p.View())], Address, CreatedAt, StartedAt, EndedAt, EndReason, Result);
}
