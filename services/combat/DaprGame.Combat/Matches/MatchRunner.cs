using System.Collections.Concurrent;
using System.Text.Json;
using DaprGame.Combat.Actors;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Infrastructure;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;

namespace DaprGame.Combat.Matches;

/// <summary>
/// The matches whose simulation lives in this replica, and their tick loops. The Match actor opens a match here when it
/// is created (or when its activation lands on this replica while still in the lobby), adds and removes players, and
/// starts and stops the loop. Each running match has one loop on one-shot waits of the injected
/// <see cref="TimeProvider"/>: per tick it drains each player's bounded input queue into <c>Submit</c>, calls
/// <c>Step</c>, turns occurrences into events, and queues each connected client its snapshot. A tick holds the match's
/// lock and never awaits; everything slow (sockets, the broker, the actor) happens outside it.
/// </summary>
public sealed class MatchRunner(
    ISimulationFactory factory,
    CombatOptions options,
    TimeProvider time,
    CombatMetrics metrics,
    LoopEvents events,
    ReplayStore replays,
    MatchJournal journal,
    CombatActorClient actors,
    IHostApplicationLifetime lifetime,
    ILogger<MatchRunner> logger) : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, RunningMatch> _matches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FinishCall> _finished = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    public bool Hosts(string matchId) => _matches.ContainsKey(matchId);

    public RunningMatch? Find(string matchId) => _matches.TryGetValue(matchId, out var m) ? m : null;

    /// <summary>Creates the simulation of a match in the lobby (no-op when this replica already holds it).</summary>
    public RunningMatch Open(string matchId, MatchSetup setup, long eventSequence) =>
        _matches.GetOrAdd(matchId, id => new RunningMatch(id, setup, factory.Create(setup), eventSequence));

    /// <summary>Seats a player: the simulation adds their entity at the next step.</summary>
    public int Join(string matchId, string playerId, int team)
    {
        var match = Require(matchId);
        lock (match.Gate)
        {
            var entity = match.Simulation.Join(playerId, team);
            match.Seats[playerId] = new PlayerSeat(playerId, entity, team, options.InputQueue);
            match.Pending.Add(new JournalEntry(match.Simulation.Tick, JournalKind.Join, playerId, team));
            return entity;
        }
    }

    /// <summary>Whether the player still has a seat here (not left, not gone after the reconnect grace).</summary>
    public bool IsSeated(string matchId, string playerId)
    {
        if (Find(matchId) is not { } match)
        {
            return false;
        }
        lock (match.Gate)
        {
            return match.Seats.TryGetValue(playerId, out var seat) && !seat.Gone;
        }
    }

    public void Leave(string matchId, string playerId)
    {
        if (Find(matchId) is not { } match)
        {
            return;
        }
        lock (match.Gate)
        {
            if (match.Seats.Remove(playerId, out var seat))
            {
                match.Simulation.Leave(playerId);
                match.Pending.Add(new JournalEntry(match.Simulation.Tick, JournalKind.Leave, playerId));
                seat.Gone = true;
                seat.Connection?.Close("left");
            }
        }
    }

    /// <summary>Starts the loop; events it makes continue the match stream after <paramref name="eventSequence"/>.</summary>
    public void Start(string matchId, long eventSequence)
    {
        var match = Require(matchId);
        lock (match.Gate)
        {
            if (match.Loop is not null)
            {
                return;
            }
            match.EventSequence = Math.Max(match.EventSequence, eventSequence);
            metrics.MatchStarted();
            // The seats as the loop starts: a takeover needs them even if the replica dies before the first checkpoint.
            Checkpoint(match);
            match.Loop = Task.Run(() => RunAsync(match));
        }
    }

    /// <summary>
    /// Takes over a running match whose replica went away: re-simulates its journal up to the last checkpoint (the state
    /// hash must match), seats its players (each has the reconnect grace to come back) and starts the loop. The event
    /// sequence jumps by <see cref="TakeoverSequenceGap"/> and loot ids carry the new epoch, so nothing the lost replica
    /// published after the checkpoint is shadowed by a different event under the same id. False when there is no usable
    /// journal.
    /// </summary>
    public async Task<bool> TakeOverAsync(string matchId, MatchSetup setup, CancellationToken cancellationToken)
    {
        if (Hosts(matchId))
        {
            return true;
        }
        if (await journal.LoadAsync(matchId, cancellationToken) is not { } saved)
        {
            return false;
        }
        var (head, entries, etag) = saved;
        var sim = factory.Create(setup);
        var match = new RunningMatch(matchId, setup, sim, head.EventSequence + TakeoverSequenceGap) { Epoch = head.Epoch + 1, HeadETag = etag };
        match.ChunkKeys.AddRange(head.Chunks);
        var now = time.GetUtcNow();
        foreach (var entry in entries)
        {
            while (sim.Tick < entry.Tick)
            {
                sim.Step();
            }
            switch (entry.Kind)
            {
                case JournalKind.Join:
                    match.Seats[entry.PlayerId] = new PlayerSeat(entry.PlayerId, sim.Join(entry.PlayerId, entry.Team), entry.Team, options.InputQueue) { DisconnectedAt = now };
                    break;
                case JournalKind.Leave:
                    sim.Leave(entry.PlayerId);
                    match.Seats.Remove(entry.PlayerId);
                    break;
                default:
                    sim.Submit(entry.PlayerId, entry.Input.GetValueOrDefault());
                    break;
            }
        }
        while (sim.Tick < head.Tick)
        {
            sim.Step();
        }
        if (sim.StateHash != head.Hash)
        {
            CombatLog.TakeoverDiverged(logger, matchId, head.Tick);
            return false;
        }
        if (!_matches.TryAdd(matchId, match))
        {
            return true;
        }
        CombatLog.TookOver(logger, matchId, head.Tick, match.Epoch);
        Start(matchId, match.EventSequence);
        return true;
    }

    /// <summary>How far the event sequence jumps at a takeover: consumers see the gap where events may have been lost.</summary>
    public const long TakeoverSequenceGap = 1_000_000;

    /// <summary>
    /// Ends a match now (its owner asked): stops the loop, stores the replay, closes the sockets, and returns how it ended.
    /// If the loop had already finished by itself, returns that ending. Null when this replica does not hold the match.
    /// </summary>
    public async Task<FinishCall?> StopAsync(string matchId, string reason)
    {
        if (Find(matchId) is not { } match)
        {
            return _finished.TryGetValue(matchId, out var done) ? done : null;
        }
        Task? loop;
        lock (match.Gate)
        {
            match.StopReason ??= reason;
            loop = match.Loop;
        }
        if (loop is null)
        {
            // Never started: end it from the lobby (no ticks, but still a result and a replay).
            await FinishAsync(match, reason, reportToActor: false);
        }
        else
        {
            await match.Cancel.CancelAsync();
            await loop;
        }
        return match.Finish;
    }

    /// <summary>The actor has recorded the end: the finish no longer needs keeping here.</summary>
    public void Forget(string matchId) => _finished.TryRemove(matchId, out _);

    /// <summary>Forgets a match without a result (its actor no longer lists it here).</summary>
    public void Discard(string matchId)
    {
        if (_matches.TryRemove(matchId, out var match))
        {
            match.Cancel.Cancel();
        }
    }

    /// <summary>Attaches a player's socket; the previous one (if any) is closed. Null when the player has no seat here.</summary>
    public (PlayerSeat Seat, int Tick, int TickRate, bool Resume)? Attach(string matchId, string playerId, MatchConnection connection)
    {
        if (Find(matchId) is not { } match)
        {
            return null;
        }
        lock (match.Gate)
        {
            if (match.Finish is not null || !match.Seats.TryGetValue(playerId, out var seat) || seat.Gone)
            {
                return null;
            }
            var resume = seat.Connection is not null || seat.DisconnectedAt is not null;
            seat.Connection?.Close("replaced");
            seat.Connection = connection;
            seat.DisconnectedAt = null;
            var tick = match.Simulation.Tick;
            connection.TrySend(MatchFrames.Welcome(seat.Entity, seat.Team, match.Setup.TickRate, tick));
            return (seat, tick, match.Setup.TickRate, resume);
        }
    }

    /// <summary>The socket went away: the player keeps their seat for the reconnect grace.</summary>
    public void Detach(string matchId, PlayerSeat seat, MatchConnection connection)
    {
        if (Find(matchId) is not { } match)
        {
            return;
        }
        lock (match.Gate)
        {
            if (ReferenceEquals(seat.Connection, connection))
            {
                seat.Connection = null;
                seat.DisconnectedAt = time.GetUtcNow();
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // When the app begins stopping, before the server waits for open requests: the loops checkpoint and close
        // their sockets, so the match socket requests end instead of holding the shutdown to its timeout.
        lifetime.ApplicationStopping.Register(BeginStopping);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BeginStopping();
        var loops = new List<Task>();
        foreach (var match in _matches.Values)
        {
            if (match.Loop is { } loop)
            {
                loops.Add(loop);
            }
        }
        try
        {
            // Each loop writes a last checkpoint on its way out; the host's shutdown timeout bounds the wait.
            await Task.WhenAll(loops).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _stopping.Dispose();

    private void BeginStopping()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        _stopping.Cancel();
        foreach (var match in _matches.Values)
        {
            match.Cancel.Cancel();
        }
    }

    private RunningMatch Require(string matchId) =>
        Find(matchId) ?? throw new InvalidOperationException($"match {matchId} is not held by this replica");

    private async Task RunAsync(RunningMatch match)
    {
        var period = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / match.Setup.TickRate);
        string? reason = null;
        try
        {
            // A one-shot wait per tick rather than a PeriodicTimer: a loop that fell behind (a slow tick, a stalled
            // process) resumes one period after it noticed, instead of bursting through the ticks it missed.
            var due = time.GetUtcNow() + period;
            lock (match.Gate)
            {
                match.Signal(match.Simulation.Tick, parked: true);
            }
            while (true)
            {
                var wait = due - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, match.Cancel.Token);
                }
                match.Cancel.Token.ThrowIfCancellationRequested();
                var started = time.GetTimestamp();
                int tick;
                lock (match.Gate)
                {
                    reason = Tick(match);
                    tick = match.Simulation.Tick;
                }
                var elapsed = time.GetElapsedTime(started);
                metrics.Tick(elapsed);
                if (elapsed > period)
                {
                    // Never hidden: the loop does not catch up (the match runs slower), and every overrun is counted and logged.
                    var overruns = match.CountOverrun();
                    metrics.Overrun();
                    CombatLog.Overrun(logger, match.Id, tick, elapsed.TotalMilliseconds, period.TotalMilliseconds, overruns);
                }
                match.Signal(tick, parked: false);
                if (reason is not null)
                {
                    break;
                }
                if (tick % options.CheckpointTicks == 0)
                {
                    lock (match.Gate)
                    {
                        Checkpoint(match);
                    }
                }
                due += period;
                var now = time.GetUtcNow();
                if (due <= now)
                {
                    // Woken a whole period late (a stalled process, a starved core): the ticks in between are not made up,
                    // so this is an overrun too, counted and logged — unless the tick's own work was already counted.
                    if (elapsed <= period)
                    {
                        var overruns = match.CountOverrun();
                        metrics.Overrun();
                        CombatLog.LateTick(logger, match.Id, tick, (now - due + period).TotalMilliseconds, period.TotalMilliseconds, overruns);
                    }
                    due = now + period;
                }
                match.Signal(tick, parked: true);
            }
        }
        catch (OperationCanceledException) when (match.Cancel.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            CombatLog.LoopFailed(logger, error, match.Id);
            reason = "error";
        }
        metrics.MatchStopped();
        if (match.Superseded)
        {
            lock (match.Gate)
            {
                foreach (var seat in match.Seats.Values)
                {
                    seat.Connection?.Close("match moved", status: System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable);
                }
            }
            _matches.TryRemove(new KeyValuePair<string, RunningMatch>(match.Id, match));
            match.SignalAll();
            return;
        }
        if (reason is null && match.StopReason is null && _stopping.IsCancellationRequested)
        {
            // The replica is shutting down, the match is not over: a last checkpoint, and the next activation of its
            // actor takes it over. Players reconnect there.
            lock (match.Gate)
            {
                Checkpoint(match);
                foreach (var seat in match.Seats.Values)
                {
                    seat.Connection?.Close("server restarting", status: System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable);
                }
            }
            await match.Saving;
            _matches.TryRemove(new KeyValuePair<string, RunningMatch>(match.Id, match));
            match.SignalAll();
            return;
        }
        var byItself = reason is not null && match.StopReason is null;
        await FinishAsync(match, reason ?? match.StopReason ?? "stopped", reportToActor: byItself && !_stopping.IsCancellationRequested);
    }

    /// <summary>One tick, under the match's lock. Returns the end reason when the simulation is over.</summary>
    private string? Tick(RunningMatch match)
    {
        var sim = match.Simulation;
        var now = time.GetUtcNow();
        foreach (var seat in match.Seats.Values)
        {
            if (!seat.Gone && seat.Connection is null && seat.DisconnectedAt is { } gone && now - gone >= options.ReconnectGrace)
            {
                seat.Gone = true;
                sim.Leave(seat.PlayerId);
                match.Pending.Add(new JournalEntry(sim.Tick, JournalKind.Leave, seat.PlayerId));
                CombatLog.GraceExpired(logger, match.Id, seat.PlayerId);
            }
            if (seat.Gone)
            {
                continue;
            }
            for (var i = 0; i < options.InputsPerTick && seat.Inputs.Reader.TryRead(out var input); i++)
            {
                var verdict = sim.Submit(seat.PlayerId, input);
                if (verdict is InputVerdict.Accepted or InputVerdict.ClampedSpeed)
                {
                    match.Pending.Add(new JournalEntry(sim.Tick, JournalKind.Input, seat.PlayerId, Input: input));
                }
                if (verdict != InputVerdict.Accepted)
                {
                    metrics.InputRejected(Camel(verdict));
                }
            }
        }

        var report = sim.Step();
        string? finished = null;
        var loot = 0;
        foreach (var occurrence in report.Occurrences)
        {
            IntegrationEvent? evt = occurrence switch
            {
                PlayerKilled k => new CombatPlayerKilled
                {
                    Id = match.NextEventId(), OccurredAt = now, StreamId = match.Stream, Sequence = match.EventSequence,
                    MatchId = match.Id, Tick = k.Tick, VictimId = k.VictimId, KillerId = k.KillerId, Weapon = k.Weapon,
                },
                LootDropped l => new CombatLootDropped
                {
                    Id = match.NextEventId(), OccurredAt = now, StreamId = match.Stream, Sequence = match.EventSequence,
                    MatchId = match.Id, LootId = match.Epoch == 0 ? $"loot:{match.Id}:{l.Tick}:{loot++}" : $"loot:{match.Id}:e{match.Epoch}:{l.Tick}:{loot++}", Tick = l.Tick, PlayerId = l.PlayerId, Item = l.Item, Quantity = l.Quantity,
                },
                CheatFlagged c => new CombatCheatFlagged
                {
                    Id = match.NextEventId(), OccurredAt = now, StreamId = match.Stream, Sequence = match.EventSequence,
                    MatchId = match.Id, Tick = c.Tick, PlayerId = c.PlayerId, Reason = Camel(c.Reason), Count = c.Count,
                },
                _ => null,
            };
            if (evt is not null)
            {
                events.Enqueue(match.Id, StoredEvent.Of(evt));
            }
            if (occurrence is MatchFinished f)
            {
                finished = f.Reason;
            }
        }

        // Hot path: one frame per client per tick. The buffer is reused across clients; each frame is copied out once
        // because the socket writer sends it later, outside the lock.
        var buffer = match.SnapshotBuffer;
        foreach (var seat in match.Seats.Values)
        {
            if (seat.Connection is not { } connection || seat.Gone)
            {
                continue;
            }
            buffer.ResetWrittenCount();
            var baseline = connection.AckTick;
            var header = buffer.GetSpan(MatchFrames.SnapshotHeader);
            MatchFrames.WriteSnapshotHeader(header, report.Tick, baseline, sim.LastProcessedSequence(seat.PlayerId));
            buffer.Advance(MatchFrames.SnapshotHeader);
            sim.WriteSnapshot(seat.PlayerId, baseline, buffer);
            var frame = buffer.WrittenSpan.ToArray();
            connection.TrySend(frame);
            metrics.SnapshotSent(frame.Length);
        }
        return finished ?? (sim.IsOver ? "over" : null);
    }

    /// <summary>Under the match's lock: the journal since the last checkpoint goes out as the next chunk, saved in order.</summary>
    private void Checkpoint(RunningMatch match)
    {
        var entries = new List<JournalEntry>(match.Pending);
        match.Pending.Clear();
        var chunk = MatchJournal.ChunkKey(match.Id, match.Epoch, match.ChunkKeys.Count);
        match.ChunkKeys.Add(chunk);
        var head = new JournalHead([.. match.ChunkKeys], match.Simulation.Tick, match.Simulation.StateHash, match.EventSequence, match.Epoch);
        match.Saving = SaveCheckpointAsync(match.Saving, match, chunk, entries, head);
    }

    /// <summary>Saves checkpoints in order; the one whose head was rewritten by another loop stops this loop.</summary>
    private async Task SaveCheckpointAsync(Task previous, RunningMatch match, string chunk, List<JournalEntry> entries, JournalHead head)
    {
        await previous;
        if (match.Superseded)
        {
            return;
        }
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            try
            {
                if (await journal.SaveAsync(match.Id, chunk, entries, head, match.HeadETag, CancellationToken.None) is { } etag)
                {
                    match.HeadETag = etag;
                }
                else
                {
                    CombatLog.Superseded(logger, match.Id, head.Epoch);
                    match.Superseded = true;
                    await match.Cancel.CancelAsync();
                }
                return;
            }
            catch (Exception error)
            {
                // A lost chunk makes the journal unusable for a takeover (which then ends the match as host_lost).
                CombatLog.CheckpointFailed(logger, error, match.Id, chunk, attempt);
            }
        }
    }

    /// <summary>Once per match: the result, the stored replay, the end frame to every socket, and the actor told.</summary>
    private async Task FinishAsync(RunningMatch match, string reason, bool reportToActor)
    {
        FinishCall finish;
        StoredReplay replay;
        lock (match.Gate)
        {
            if (match.Finish is not null)
            {
                return;
            }
            var sim = match.Simulation;
            var result = sim.Result();
            finish = new FinishCall(reason, result.Ticks, result.FinalHash,
                [.. result.Players.Select(p => new CombatPlayerResult(p.PlayerId, p.Team, p.Score, p.Kills, p.Deaths, p.DamageDealt))],
                [.. result.Winners], match.EventSequence);
            var s = match.Setup;
            replay = new StoredReplay(match.Id, s.Mode, s.Map, s.TickRate, s.Seed, s.MaxPlayers, s.DurationTicks, s.ScoreLimit, s.Bots,
                result.Ticks, result.FinalHash, sim.Log, [.. sim.TickHashes], time.GetUtcNow());
            match.Finish = finish;
            var end = MatchFrames.End(reason, new MatchResultView(finish.Ticks, Hex(finish.FinalHash), finish.Players, finish.Winners));
            foreach (var seat in match.Seats.Values)
            {
                seat.Connection?.Close("ended", end);
            }
        }
        CombatLog.Ended(logger, match.Id, finish.Ticks, reason);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            try
            {
                await replays.SaveAsync(replay, CancellationToken.None);
                break;
            }
            catch (Exception error)
            {
                // The result still goes to the actor: a match without its replay is better than a match that never ends.
                CombatLog.ReplaySaveFailed(logger, error, match.Id, attempt);
            }
        }
        try
        {
            await match.Saving;
            await journal.DeleteAsync(match.Id, match.ChunkKeys, CancellationToken.None);
        }
        catch (Exception error)
        {
            // Left-over journal keys only cost space: a takeover never reads them once the actor has the end.
            CombatLog.CheckpointFailed(logger, error, match.Id, MatchJournal.HeadKey(match.Id), 0);
        }
        _finished[match.Id] = finish;
        _matches.TryRemove(new KeyValuePair<string, RunningMatch>(match.Id, match));
        match.SignalAll();
        if (reportToActor)
        {
            // Not awaited by the loop: an actor turn may be waiting for this loop (an owner's end) and would deadlock.
            _ = Task.Run(() => ReportAsync(match.Id, finish));
        }
    }

    private async Task ReportAsync(string matchId, FinishCall finish)
    {
        for (var attempt = 1; attempt <= 20 && !_stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                await actors.CallAsync(matchId, nameof(IMatch.FinishAsync), finish, _stopping.Token);
                return;
            }
            catch (Exception error) when (!_stopping.IsCancellationRequested)
            {
                CombatLog.FinishReportFailed(logger, error, matchId, attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), _stopping.Token);
            }
        }
    }

    public static string Hex(ulong hash) => hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    public static string Camel<T>(T value) where T : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());
}
