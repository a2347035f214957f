using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Matches;

namespace DaprGame.Combat.Tests;

/// <summary>
/// The tests' simulation core: small but honest. Entities move by their inputs (move / 100 per tick), Fire kills the
/// lowest other entity (a kill and a loot drop for the killer), three clamped inputs raise a cheat flag, the state hash
/// is FNV-1a over the tick and every entity, snapshots are full or delta byte lists, and the log replays to the same
/// hashes. <see cref="Steps"/> counts calls to <see cref="Step"/>; <see cref="FakeSimulationFactory.OnStep"/> lets a test
/// make a tick slow (by moving the fake clock inside it).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The log is a MemoryStream: nothing unmanaged to release.")]
public sealed class FakeSimulation : IMatchSimulation
{
    private const byte JoinRecord = 1;
    private const byte LeaveRecord = 2;
    private const byte InputRecord = 3;

    private readonly FakeSimulationFactory? _factory;
    private readonly SortedDictionary<int, Entity> _entities = [];
    private readonly Dictionary<string, Player> _players = new(StringComparer.Ordinal);
    private readonly List<(string Player, int Team, int Entity)> _joining = [];
    private readonly List<string> _leaving = [];
    private readonly List<(string Player, PlayerInput Input)> _inputs = [];
    private readonly Dictionary<int, Dictionary<int, (int X, int Y)>> _history = [];
    private readonly List<ulong> _hashes = [];
    private readonly Dictionary<InputVerdict, long> _verdicts = [];
    private readonly MemoryStream _log = new();
    private readonly BinaryWriter _writer;
    private int _nextEntity = 1;
    private string? _finished;

    public FakeSimulation(MatchSetup setup, FakeSimulationFactory? factory = null)
    {
        Setup = setup;
        _factory = factory;
        _writer = new BinaryWriter(_log);
        _writer.Write(setup.Mode);
        _writer.Write(setup.Map);
        _writer.Write(setup.TickRate);
        _writer.Write(setup.Seed);
        _writer.Write(setup.MaxPlayers);
        _writer.Write(setup.DurationTicks);
        _writer.Write(setup.ScoreLimit);
        _writer.Write(setup.Bots);
    }

    private sealed class Entity(string player, int team)
    {
        public string Player { get; } = player;

        public int Team { get; } = team;

        public int X { get; set; }

        public int Y { get; set; }
    }

    private sealed class Player(int entity, int team)
    {
        public int Entity { get; set; } = entity;

        public int Team { get; } = team;

        public uint LastSubmitted { get; set; }

        public uint LastProcessed { get; set; }

        public int Kills { get; set; }

        public int Deaths { get; set; }

        public int Clamped { get; set; }

        public bool Flagged { get; set; }

        public bool Left { get; set; }
    }

    public MatchSetup Setup { get; }

    public int Tick { get; private set; }

    public ulong StateHash { get; private set; }

    public bool IsOver => _finished is not null;

    public int Steps { get; private set; }

    public IReadOnlyDictionary<InputVerdict, long> VerdictCounts => _verdicts;

    public byte[] Log
    {
        get
        {
            _writer.Flush();
            var bytes = _log.ToArray();
            // The trailer: how many ticks ran, so a replay steps past the last input.
            var result = new byte[bytes.Length + 5];
            bytes.CopyTo(result, 0);
            result[bytes.Length] = 0xFF;
            BinaryPrimitives.WriteInt32LittleEndian(result.AsSpan(bytes.Length + 1), Tick);
            return result;
        }
    }

    public IReadOnlyList<ulong> TickHashes => _hashes;

    public int Join(string playerId, int team)
    {
        var entity = _nextEntity++;
        _joining.Add((playerId, team, entity));
        _players[playerId] = new Player(entity, team);
        Record(JoinRecord, playerId, w => w.Write(team));
        return entity;
    }

    public void Leave(string playerId)
    {
        if (_players.TryGetValue(playerId, out var p) && !p.Left)
        {
            p.Left = true;
            _leaving.Add(playerId);
            Record(LeaveRecord, playerId, _ => { });
        }
    }

    public InputVerdict Submit(string playerId, in PlayerInput input)
    {
        var verdict = Check(playerId, input, out var accepted);
        if (verdict is InputVerdict.Accepted or InputVerdict.ClampedSpeed)
        {
            var p = _players[playerId];
            p.LastSubmitted = accepted.Sequence;
            _inputs.Add((playerId, accepted));
            var a = accepted;
            Record(InputRecord, playerId, w =>
            {
                w.Write(a.Sequence);
                w.Write(a.Tick);
                w.Write(a.ViewTick);
                w.Write(a.Entity);
                w.Write(a.MoveX);
                w.Write(a.MoveY);
                w.Write(a.AimX);
                w.Write(a.AimY);
                w.Write((byte)a.Buttons);
            });
        }
        if (verdict != InputVerdict.Accepted)
        {
            _verdicts[verdict] = _verdicts.GetValueOrDefault(verdict) + 1;
        }
        return verdict;
    }

    public uint LastProcessedSequence(string playerId) => _players.TryGetValue(playerId, out var p) ? p.LastProcessed : 0;

    public TickReport Step()
    {
        Steps++;
        _factory?.OnStep?.Invoke(this);
        Tick++;
        var occurrences = new List<MatchOccurrence>();
        foreach (var (player, team, entity) in _joining)
        {
            _entities[entity] = new Entity(player, team);
        }
        _joining.Clear();
        foreach (var player in _leaving)
        {
            _entities.Remove(_players[player].Entity);
        }
        _leaving.Clear();
        foreach (var (player, input) in _inputs)
        {
            var p = _players[player];
            if (_entities.TryGetValue(p.Entity, out var e))
            {
                e.X += input.MoveX / 100;
                e.Y += input.MoveY / 100;
                if ((input.Buttons & InputButtons.Fire) != 0
                    && _entities.FirstOrDefault(kv => kv.Key != p.Entity) is { Value: { } victim } && victim is not null)
                {
                    var v = _players[victim.Player];
                    p.Kills++;
                    v.Deaths++;
                    occurrences.Add(new PlayerKilled(Tick, victim.Player, player, "blaster"));
                    occurrences.Add(new LootDropped(Tick, player, "iron-sword", 1));
                    if (Setup.ScoreLimit > 0 && p.Kills >= Setup.ScoreLimit)
                    {
                        _finished ??= "score_limit";
                    }
                }
            }
            p.LastProcessed = input.Sequence;
            if (p.Clamped >= 3 && !p.Flagged)
            {
                p.Flagged = true;
                occurrences.Add(new CheatFlagged(Tick, player, InputVerdict.ClampedSpeed, p.Clamped));
            }
        }
        _inputs.Clear();

        var hash = 14695981039346656037UL;
        Mix(ref hash, Tick);
        var positions = new Dictionary<int, (int, int)>();
        foreach (var (id, e) in _entities)
        {
            Mix(ref hash, id);
            Mix(ref hash, e.X);
            Mix(ref hash, e.Y);
            positions[id] = (e.X, e.Y);
        }
        StateHash = hash;
        _hashes.Add(hash);
        _history[Tick] = positions;
        _history.Remove(Tick - 64);
        if (Setup.DurationTicks > 0 && Tick >= Setup.DurationTicks)
        {
            _finished ??= "duration";
        }
        if (_finished is not null)
        {
            occurrences.Add(new MatchFinished(Tick, _finished));
        }
        return new TickReport(Tick, hash, occurrences);
    }

    /// <summary>Full: <c>0 | tick i32 | n u16 | (entity, x, y) i32 × n</c>. Delta: <c>1 | tick | baseline i32 | n | changed entities</c>.</summary>
    public int WriteSnapshot(string playerId, int baselineTick, IBufferWriter<byte> output)
    {
        var current = _history.GetValueOrDefault(Tick) ?? [];
        var baseline = baselineTick > 0 ? _history.GetValueOrDefault(baselineTick) : null;
        var delta = baseline is not null;
        var changed = baseline is not null ? current.Where(kv => !baseline.TryGetValue(kv.Key, out var old) || old != kv.Value).ToList() : [.. current];
        var length = (delta ? 11 : 7) + (changed.Count * 12);
        var span = output.GetSpan(length);
        span[0] = delta ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], Tick);
        var at = 5;
        if (delta)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], baselineTick);
            at += 4;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)changed.Count);
        at += 2;
        foreach (var (id, (x, y)) in changed)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], id);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 4)..], x);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 8)..], y);
            at += 12;
        }
        output.Advance(length);
        return length;
    }

    public MatchResult Result()
    {
        var players = _players
            .Select(kv => new PlayerStats(kv.Key, kv.Value.Team, kv.Value.Kills, kv.Value.Kills, kv.Value.Deaths, kv.Value.Kills * 100))
            .OrderByDescending(p => p.Score).ThenBy(p => p.PlayerId, StringComparer.Ordinal).ToList();
        var best = players.Count == 0 ? 0 : players[0].Score;
        return new MatchResult(Tick, StateHash, players, [.. players.Where(p => p.Score == best).Select(p => p.PlayerId)]);
    }

    /// <summary>Re-simulates a log: the same joins, leaves and inputs at the same ticks.</summary>
    public static (FakeSimulation Simulation, List<ulong> Hashes) Replay(byte[] log)
    {
        using var reader = new BinaryReader(new MemoryStream(log));
        var setup = new MatchSetup(reader.ReadString(), reader.ReadString(), reader.ReadInt32(), reader.ReadUInt64(),
            reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        var sim = new FakeSimulation(setup);
        while (true)
        {
            var kind = reader.ReadByte();
            var tick = reader.ReadInt32();
            while (sim.Tick < tick)
            {
                sim.Step();
            }
            if (kind == 0xFF)
            {
                break;
            }
            var player = reader.ReadString();
            switch (kind)
            {
                case JoinRecord:
                    sim.Join(player, reader.ReadInt32());
                    break;
                case LeaveRecord:
                    sim.Leave(player);
                    break;
                default:
                    sim.Submit(player, new PlayerInput
                    {
                        Sequence = reader.ReadUInt32(), Tick = reader.ReadInt32(), ViewTick = reader.ReadInt32(), Entity = reader.ReadInt32(),
                        MoveX = reader.ReadInt16(), MoveY = reader.ReadInt16(), AimX = reader.ReadInt16(), AimY = reader.ReadInt16(),
                        Buttons = (InputButtons)reader.ReadByte(),
                    });
                    break;
            }
        }
        return (sim, [.. sim.TickHashes]);
    }

    private InputVerdict Check(string playerId, in PlayerInput input, out PlayerInput accepted)
    {
        accepted = input;
        if (!_players.TryGetValue(playerId, out var p) || p.Left)
        {
            return InputVerdict.RejectedNotInMatch;
        }
        if (input.Entity != p.Entity)
        {
            return InputVerdict.RejectedForeignEntity;
        }
        if (input.Sequence <= p.LastSubmitted)
        {
            return InputVerdict.RejectedSequence;
        }
        if (input.MoveX is > 1000 or < -1000 || input.MoveY is > 1000 or < -1000)
        {
            p.Clamped++;
            accepted = input with { MoveX = Math.Clamp(input.MoveX, (short)-1000, (short)1000), MoveY = Math.Clamp(input.MoveY, (short)-1000, (short)1000) };
            return InputVerdict.ClampedSpeed;
        }
        return InputVerdict.Accepted;
    }

    private void Record(byte kind, string playerId, Action<BinaryWriter> body)
    {
        _writer.Write(kind);
        _writer.Write(Tick);
        _writer.Write(playerId);
        body(_writer);
    }

    private static void Mix(ref ulong hash, int value)
    {
        for (var i = 0; i < 4; i++)
        {
            hash ^= (byte)(value >> (8 * i));
            hash *= 1099511628211UL;
        }
    }
}

/// <summary>The tests' <see cref="ISimulationFactory"/>: maps <c>arena</c> and <c>dust</c>, modes <c>deathmatch</c> and <c>team</c>.</summary>
public sealed class FakeSimulationFactory : ISimulationFactory
{
    private readonly ConcurrentDictionary<ulong, FakeSimulation> _bySeed = new();

    public IReadOnlyList<string> Maps { get; } = ["arena", "dust"];

    /// <summary>Runs at the start of every step of every simulation (on the loop's thread).</summary>
    public Action<FakeSimulation>? OnStep { get; set; }

    /// <summary>The latest simulation created with <paramref name="seed"/>.</summary>
    public FakeSimulation Of(ulong seed) => _bySeed[seed];

    public string? Validate(MatchSetup setup) =>
        setup.TickRate is < 10 or > 60 ? "tick rate is 10-60"
        : !Maps.Contains(setup.Map) ? $"no map {setup.Map}"
        : setup.Mode is not ("deathmatch" or "team") ? $"no mode {setup.Mode}; modes: deathmatch, team"
        : null;

    public IMatchSimulation Create(MatchSetup setup)
    {
        var sim = new FakeSimulation(setup, this);
        _bySeed[setup.Seed] = sim;
        return sim;
    }

    public ReplayOutcome Verify(byte[] log, IReadOnlyList<ulong> expectedHashes)
    {
        var (sim, hashes) = FakeSimulation.Replay(log);
        var mismatches = 0;
        int? first = null;
        for (var i = 0; i < Math.Max(hashes.Count, expectedHashes.Count); i++)
        {
            if (i >= hashes.Count || i >= expectedHashes.Count || hashes[i] != expectedHashes[i])
            {
                mismatches++;
                first ??= i + 1;
            }
        }
        return new ReplayOutcome(sim.Tick, sim.StateHash, mismatches, first);
    }
}
