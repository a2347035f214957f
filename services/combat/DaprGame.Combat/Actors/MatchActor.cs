using Dapr.Actors.Runtime;
using DaprGame.Combat.Infrastructure;
using DaprGame.Combat.Matches;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Actors;

/// <summary>
/// One match: setup, seats, status, the replica that runs it, and the result. The simulation and its loop live in the
/// <see cref="MatchRunner"/> of the replica holding this activation, which is why the actor records that replica and
/// its match socket address. A turn saves the state with its outbox (created/started/ended), then publishes the
/// outbox; a crash between the two republishes on the next activation, under the same event ids.
/// </summary>
[Actor(TypeName = CombatActorClient.MatchType)]
public sealed class MatchActor(
    ActorHost host,
    ISimulationFactory factory,
    MatchRunner runner,
    CombatOptions options,
    TimeProvider time,
    ICombatPublisher publisher,
    ILogger<MatchActor> logger) : Actor(host), IMatch
{
    private const string StateKey = "match";
    private const string RetryTimer = "outbox-retry";

    private MatchState? _state;
    private bool _retrying;

    private string MatchId => Id.GetId();

    protected override async Task OnActivateAsync()
    {
        var stored = await StateManager.TryGetStateAsync<MatchState>(StateKey);
        _state = stored.HasValue ? stored.Value : null;
        if (_state is null)
        {
            return;
        }
        if (_state.Status == MatchStatuses.Lobby && !runner.Hosts(MatchId))
        {
            // The activation moved here (a restart, a rebalance): the lobby's simulation is rebuilt on this replica.
            Rehost(_state);
            await SaveAsync();
        }
        else if (_state.Status == MatchStatuses.Running && !runner.Hosts(MatchId))
        {
            // The replica running the loop went away (or restarted): this one re-simulates the journal and runs it on.
            if (await runner.TakeOverAsync(MatchId, _state.Setup(), CancellationToken.None))
            {
                _state.Replica = options.ReplicaId;
                _state.Address = options.PublicUrl;
            }
            else
            {
                CombatLog.HostLost(logger, MatchId);
                End(_state, new FinishCall("host_lost", 0, 0, [], [], _state.EventSequence), withResult: false);
            }
            await SaveAsync();
        }
        await FlushAsync();
    }

    public async Task<CombatReply<MatchView>> CreateAsync(CreateCall call)
    {
        var m = call.Match;
        if (_state is { } existing)
        {
            // Creating again with the same id is the same request repeated, if it comes from the same owner with the same setup.
            return existing.OwnerId == call.PlayerId && existing.Mode == m.Mode && existing.Map == m.Map && existing.TickRate == m.TickRate
                ? Reply.Ok(existing.View())
                : Reply.Fail<MatchView>(CombatErrorCodes.Conflict, $"match {MatchId} exists");
        }
        var state = new MatchState
        {
            MatchId = MatchId, OwnerId = call.PlayerId, Mode = m.Mode, Map = m.Map, TickRate = m.TickRate, Seed = call.Seed,
            MaxPlayers = m.MaxPlayers, DurationTicks = m.DurationTicks, ScoreLimit = m.ScoreLimit, Bots = m.Bots,
            CreatedAt = time.GetUtcNow(),
        };
        if (factory.Validate(state.Setup()) is { } invalid)
        {
            return Reply.Fail<MatchView>(CombatErrorCodes.Invalid, invalid);
        }
        Rehost(state);
        Emit(state, new CombatMatchCreated
        {
            Id = NextEventId(state), OccurredAt = state.CreatedAt, StreamId = Stream, Sequence = state.EventSequence,
            MatchId = MatchId, OwnerId = state.OwnerId, Mode = state.Mode, Map = state.Map, TickRate = state.TickRate, Seed = state.Seed,
            MaxPlayers = state.MaxPlayers, DurationTicks = state.DurationTicks, ScoreLimit = state.ScoreLimit,
        });
        _state = state;
        CombatLog.Created(logger, MatchId, state.OwnerId, state.Mode, state.Map, state.TickRate);
        await SaveAndFlushAsync();
        return Reply.Ok(state.View());
    }

    public async Task<CombatReply<JoinView>> JoinAsync(PlayerCall call)
    {
        if (_state is not { } state)
        {
            return NotFound<JoinView>();
        }
        if (state.Status == MatchStatuses.Ended)
        {
            return Reply.Fail<JoinView>(CombatErrorCodes.WrongState, $"match {MatchId} has ended");
        }
        var seat = state.Players.FirstOrDefault(p => p.PlayerId == call.PlayerId);
        if (seat is { Left: false } && !runner.IsSeated(MatchId, call.PlayerId))
        {
            // The loop let the player go after the reconnect grace: joining again is a new entity.
            seat.Left = true;
        }
        if (seat is { Left: false })
        {
            return Reply.Ok(Joined(state, seat));
        }
        var present = state.Players.Where(p => !p.Left).ToList();
        if (present.Count >= state.MaxPlayers)
        {
            return Reply.Fail<JoinView>(CombatErrorCodes.MatchFull, $"match {MatchId} is full ({state.MaxPlayers} players)");
        }
        var slot = Enumerable.Range(0, state.MaxPlayers).First(s => present.All(p => p.Slot != s));
        var team = state.Mode == "team" ? slot % 2 : slot;
        var entity = runner.Join(MatchId, call.PlayerId, team);
        if (seat is null)
        {
            seat = new PlayerRecord { PlayerId = call.PlayerId };
            state.Players.Add(seat);
        }
        seat.Slot = slot;
        seat.Team = team;
        seat.Entity = entity;
        seat.Left = false;
        await SaveAsync();
        return Reply.Ok(Joined(state, seat));
    }

    public async Task<CombatReply<MatchView>> LeaveAsync(PlayerCall call)
    {
        if (_state is not { } state)
        {
            return NotFound<MatchView>();
        }
        if (state.Players.FirstOrDefault(p => p.PlayerId == call.PlayerId && !p.Left) is not { } seat)
        {
            return Reply.Fail<MatchView>(CombatErrorCodes.NotFound, $"you are not in match {MatchId}");
        }
        if (state.Status == MatchStatuses.Ended)
        {
            return Reply.Fail<MatchView>(CombatErrorCodes.WrongState, $"match {MatchId} has ended");
        }
        runner.Leave(MatchId, call.PlayerId);
        seat.Left = true;
        await SaveAsync();
        return Reply.Ok(state.View());
    }

    public async Task<CombatReply<MatchView>> StartAsync(PlayerCall call)
    {
        if (_state is not { } state)
        {
            return NotFound<MatchView>();
        }
        if (state.OwnerId != call.PlayerId && !call.Admin)
        {
            return Reply.Fail<MatchView>(CombatErrorCodes.Forbidden, $"only the owner of match {MatchId} starts it");
        }
        if (state.Status == MatchStatuses.Running)
        {
            return Reply.Ok(state.View());
        }
        if (state.Status != MatchStatuses.Lobby)
        {
            return Reply.Fail<MatchView>(CombatErrorCodes.WrongState, $"match {MatchId} is {state.Status}");
        }
        state.Status = MatchStatuses.Running;
        state.StartedAt = time.GetUtcNow();
        Emit(state, new CombatMatchStarted
        {
            Id = NextEventId(state), OccurredAt = state.StartedAt.Value, StreamId = Stream, Sequence = state.EventSequence,
            MatchId = MatchId, Players = [.. state.Players.Where(p => !p.Left).Select(p => p.PlayerId)], Address = state.Address,
        });
        await SaveAndFlushAsync();
        // The loop numbers its events after the started event; the end reports the last number it used.
        runner.Start(MatchId, state.EventSequence);
        CombatLog.Started(logger, MatchId, state.Replica, state.Players.Count(p => !p.Left));
        return Reply.Ok(state.View());
    }

    public async Task<CombatReply<MatchView>> EndAsync(PlayerCall call)
    {
        if (_state is not { } state)
        {
            return NotFound<MatchView>();
        }
        if (state.OwnerId != call.PlayerId && !call.Admin)
        {
            return Reply.Fail<MatchView>(CombatErrorCodes.Forbidden, $"only the owner of match {MatchId} ends it");
        }
        if (state.Status == MatchStatuses.Ended)
        {
            return Reply.Fail<MatchView>(CombatErrorCodes.WrongState, $"match {MatchId} has ended");
        }
        var finish = await runner.StopAsync(MatchId, "ended_by_owner")
            ?? new FinishCall("host_lost", 0, 0, [], [], state.EventSequence);
        End(state, finish, withResult: finish.Reason != "host_lost");
        await SaveAndFlushAsync();
        runner.Forget(MatchId);
        return Reply.Ok(state.View());
    }

    public Task<CombatReply<MatchView>> GetAsync() =>
        Task.FromResult(_state is { } state ? Reply.Ok(state.View()) : NotFound<MatchView>());

    public async Task FinishAsync(FinishCall call)
    {
        if (_state is not { } state || state.Status == MatchStatuses.Ended)
        {
            runner.Forget(MatchId);
            return;
        }
        End(state, call, withResult: true);
        await SaveAndFlushAsync();
        runner.Forget(MatchId);
    }

    /// <summary>The retry timer's callback: publishes what the outbox still holds.</summary>
    public Task RetryOutboxAsync() => FlushAsync();

    private string Stream => "combat/match/" + MatchId;

    private static string NextEventId(MatchState state) => $"combat/match/{state.MatchId}:{++state.EventSequence}";

    private void Rehost(MatchState state)
    {
        state.Replica = options.ReplicaId;
        state.Address = options.PublicUrl;
        runner.Discard(MatchId);
        runner.Open(MatchId, state.Setup(), state.EventSequence);
        foreach (var p in state.Players.Where(p => !p.Left))
        {
            p.Entity = runner.Join(MatchId, p.PlayerId, p.Team);
        }
    }

    private void End(MatchState state, FinishCall finish, bool withResult)
    {
        state.Status = MatchStatuses.Ended;
        state.EndedAt = time.GetUtcNow();
        state.EndReason = finish.Reason;
        state.EventSequence = Math.Max(state.EventSequence, finish.EventSequence);
        var hash = Matches.MatchRunner.Hex(finish.FinalHash);
        state.Result = withResult ? new MatchResultView(finish.Ticks, hash, finish.Players, finish.Winners) : null;
        Emit(state, new CombatMatchEnded
        {
            Id = NextEventId(state), OccurredAt = state.EndedAt.Value, StreamId = Stream, Sequence = state.EventSequence,
            MatchId = MatchId, Reason = finish.Reason, Ticks = finish.Ticks, FinalHash = hash, Players = finish.Players, Winners = finish.Winners,
        });
        CombatLog.Ended(logger, MatchId, finish.Ticks, finish.Reason);
    }

    private JoinView Joined(MatchState state, PlayerRecord seat) =>
        new(MatchId, seat.PlayerId, seat.Slot, seat.Team, seat.Entity, state.Status, state.TickRate, state.Address);

    private CombatReply<T> NotFound<T>() => Reply.Fail<T>(CombatErrorCodes.NotFound, $"no match {MatchId}");

    private static void Emit(MatchState state, IntegrationEvent evt) => state.Outbox.Add(StoredEvent.Of(evt));

    private async Task SaveAndFlushAsync()
    {
        await SaveAsync();
        await FlushAsync();
    }

    private async Task SaveAsync()
    {
        await StateManager.SetStateAsync(StateKey, _state!);
        await StateManager.SaveStateAsync();
    }

    /// <summary>
    /// Publishes the outbox in order; what was published leaves it and is saved so with the next change. After a crash the
    /// rest is published again under the same ids, which consumers dedup.
    /// </summary>
    private async Task FlushAsync()
    {
        if (_state is not { } state)
        {
            return;
        }
        var done = 0;
        var failed = false;
        foreach (var evt in state.Outbox)
        {
            try
            {
                await publisher.PublishAsync(evt, CancellationToken.None);
            }
            catch (Exception error)
            {
                CombatLog.PublishFailed(logger, error, MatchId, evt.Id);
                failed = true;
                break;
            }
            done++;
        }
        if (done > 0)
        {
            state.Outbox.RemoveRange(0, done);
            await SaveAsync();
        }
        if (failed && !_retrying)
        {
            _retrying = true;
            await RegisterTimerAsync(RetryTimer, nameof(RetryOutboxAsync), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        }
        else if (!failed && _retrying)
        {
            _retrying = false;
            await UnregisterTimerAsync(RetryTimer);
        }
    }
}
