using DaprGame.Combat.Domain.Rules;

namespace DaprGame.Combat.Domain.Tests;

/// <summary>
/// Plays a match the way well-behaved clients would, from a seeded <see cref="Random"/>: each active player sends
/// one or two inputs a tick (moving, aiming at the nearest fighter it can see, firing and using abilities only when
/// its weapons are ready, viewing a tick or a few in the past), and players join and leave mid-match.
/// </summary>
internal sealed class MatchDriver
{
    private readonly Random _random;
    private readonly Dictionary<string, Client> _clients = [];
    private int _nextPlayer;

    public MatchDriver(MatchSetup setup, int seed, SimulationOptions? options = null)
    {
        Sim = MatchSimulations.Create(setup, options ?? new SimulationOptions());
        _random = new Random(seed);
    }

    public IMatchSimulation Sim { get; }

    public Match Match => (Match)Sim;

    public List<MatchOccurrence> Occurrences { get; } = [];

    public IEnumerable<string> ActivePlayers => _clients.Keys;

    public string Join(int team = 1)
    {
        var id = $"p{_nextPlayer++}";
        var entity = Sim.Join(id, Sim.Setup.Mode == MatchSimulations.TeamMode ? team : 0);
        _clients[id] = new Client(entity);
        return id;
    }

    public void Leave(string id)
    {
        Sim.Leave(id);
        _clients.Remove(id);
    }

    /// <summary>Sometimes a player joins or leaves, every client submits, then the match steps.</summary>
    public TickReport Tick(bool churn = true)
    {
        if (churn && _random.Next(40) == 0 && _clients.Count < Sim.Setup.MaxPlayers)
        {
            Join(_random.Next(1, 3));
        }
        if (churn && _random.Next(60) == 0 && _clients.Count > 1)
        {
            Leave(_clients.Keys.OrderBy(k => k, StringComparer.Ordinal).ElementAt(_random.Next(_clients.Count)));
        }
        foreach (var (id, client) in _clients.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var inputs = _random.Next(4) == 0 ? 2 : 1;
            for (var i = 0; i < inputs; i++)
            {
                var verdict = Sim.Submit(id, NextInput(client));
                if (verdict is not (InputVerdict.Accepted or InputVerdict.ClampedSpeed))
                {
                    throw new InvalidOperationException($"the driver's own input was refused: {verdict}");
                }
                client.Accepted();
            }
        }
        var report = Sim.Step();
        Occurrences.AddRange(report.Occurrences);
        return report;
    }

    public void Run(int ticks, bool churn = true)
    {
        for (var i = 0; i < ticks && !Sim.IsOver; i++)
        {
            Tick(churn);
        }
    }

    private PlayerInput NextInput(Client client)
    {
        var next = Sim.Tick + 1;
        var rules = Match.Rules;
        var (aimX, aimY) = AimAtNearest(client.Entity);
        var buttons = InputButtons.None;
        if (aimX != 0 || aimY != 0)
        {
            if (client.FireReady <= next && _random.Next(3) == 0)
            {
                buttons |= InputButtons.Fire;
                client.PendingFire = next + rules.RifleCooldown;
            }
            if (client.RocketReady <= next && _random.Next(20) == 0)
            {
                buttons |= InputButtons.Ability1;
                client.PendingRocket = next + rules.RocketCooldown;
            }
        }
        if (client.BlastReady <= next && _random.Next(40) == 0)
        {
            buttons |= InputButtons.Ability2;
            client.PendingBlast = next + rules.BlastCooldown;
        }
        if (client.FiredThisTick(next, ref buttons))
        {
            buttons = InputButtons.None;
        }
        return new PlayerInput
        {
            Sequence = ++client.Sequence,
            Tick = next,
            ViewTick = Math.Max(0, Sim.Tick - _random.Next(0, 4)),
            Entity = client.Entity,
            MoveX = (short)_random.Next(-1000, 1001),
            MoveY = (short)_random.Next(-1000, 1001),
            AimX = (short)aimX,
            AimY = (short)aimY,
            Buttons = buttons,
        };
    }

    private (int X, int Y) AimAtNearest(int entity)
    {
        var frame = Match.History.Get(Sim.Tick)!;
        var own = frame.IndexOf(entity);
        if (own < 0)
        {
            return (_random.Next(1, 101), _random.Next(-100, 101));
        }
        var best = long.MaxValue;
        (int X, int Y) aim = (1, 0);
        for (var i = 0; i < frame.Count; i++)
        {
            ref readonly var s = ref frame.States[i];
            if (i == own || s.Kind == EntityKind.Projectile || s.Health <= 0)
            {
                continue;
            }
            long dx = s.X - frame.States[own].X;
            long dy = s.Y - frame.States[own].Y;
            var d = dx * dx + dy * dy;
            if (d < best && d > 0)
            {
                best = d;
                var scale = Math.Max(Math.Abs(dx), Math.Abs(dy)) / 30000 + 1;
                aim = ((int)(dx / scale), (int)(dy / scale));
            }
        }
        return aim == (0, 0) ? (1, 0) : aim;
    }

    private sealed class Client(int entity)
    {
        public int Entity { get; } = entity;

        public uint Sequence { get; set; }

        public int FireReady { get; private set; }

        public int RocketReady { get; private set; }

        public int BlastReady { get; private set; }

        public int PendingFire { get; set; }

        public int PendingRocket { get; set; }

        public int PendingBlast { get; set; }

        private int _usedTick = -1;
        private InputButtons _used;

        /// <summary>A second input in the same tick may not use what the first one used (the gate refuses it as a cooldown).</summary>
        public bool FiredThisTick(int tick, ref InputButtons buttons)
        {
            if (_usedTick != tick)
            {
                _usedTick = tick;
                _used = InputButtons.None;
            }
            var clash = (buttons & _used) != 0;
            if (!clash)
            {
                _used |= buttons;
            }
            return clash;
        }

        /// <summary>The input went through: the weapons it used are busy until their cooldown (at the latest) passes.</summary>
        public void Accepted()
        {
            FireReady = Math.Max(FireReady, PendingFire);
            RocketReady = Math.Max(RocketReady, PendingRocket);
            BlastReady = Math.Max(BlastReady, PendingBlast);
        }
    }
}
