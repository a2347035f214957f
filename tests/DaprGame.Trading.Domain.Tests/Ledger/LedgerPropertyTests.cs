using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Tests.Ledger;

/// <summary>
/// The bank test on the domain: random command sequences over a few wallets (credits, debits, transfers as a debit here
/// and a credit there, holds, partial captures, releases, retries, key reuse and restarts from state). After every
/// command each asset is conserved: what the wallets own (available + held) equals what came in minus what left
/// (debits and captures). Nothing is ever negative, and replaying every command a second time changes nothing.
/// Seeded: a failure names its seed, and rerunning it replays the same sequence.
/// </summary>
public sealed class LedgerPropertyTests
{
    private const int Sequences = 2_000;
    private const int CommandsPerSequence = 30;
    private static readonly string[] Currencies = ["GOLD", "SILVER"];
    private static readonly string[] ItemTypes = ["ore", "wood"];
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Assets_are_conserved_never_negative_and_a_second_replay_changes_nothing()
    {
        var commands = 0;
        for (var seed = 1; seed <= Sequences; seed++)
        {
            commands += new Run(seed).Execute();
        }
        Assert.True(commands >= Sequences * CommandsPerSequence / 2, $"only {commands} commands issued");
    }

    private sealed class Run(int seed)
    {
        private readonly Random _random = new(seed);
        private readonly Wallet[] _wallets = [Wallet.Open("p0"), Wallet.Open("p1"), Wallet.Open("p2")];
        private readonly Dictionary<string, Int128> _inflow = [];          // created − destroyed, per asset
        private readonly HashSet<string> _circulating = new(StringComparer.Ordinal);
        private readonly List<Issued> _issued = [];
        private int _keys;
        private int _instances;
        private DateTimeOffset _now = T0;

        public int Execute()
        {
            for (var i = 0; i < CommandsPerSequence; i++)
            {
                _now = _now.AddSeconds(1);
                var w = _random.Next(_wallets.Length);
                if (_random.Next(100) < 3)
                {
                    _wallets[w] = Wallet.FromState(_wallets[w].ToState());
                }
                Step(w);
                CheckInvariants();
            }
            CheckInstances();
            ReplayEverything();
            return _issued.Count;
        }

        private void Step(int w)
        {
            var wallet = _wallets[w];
            switch (_random.Next(100))
            {
                case < 20:
                    Do(w, Op.Credit, null, CreditBundle(wallet), "mint");
                    break;
                case < 32:
                    Do(w, Op.Debit, null, SpendBundle(wallet), "sink");
                    break;
                case < 50:
                    var to = (w + 1 + _random.Next(_wallets.Length - 1)) % _wallets.Length;
                    var bundle = SpendBundle(wallet);
                    if (Do(w, Op.Debit, null, bundle, $"transfer to p{to}").Ok)
                    {
                        Do(to, Op.Credit, null, bundle, $"transfer from p{w}");
                    }
                    break;
                case < 65:
                    Do(w, Op.Hold, $"h{_random.Next(8)}", SpendBundle(wallet), "order");
                    break;
                case < 80:
                    var (holdId, remaining) = PickHold(wallet);
                    Do(w, Op.Capture, holdId, Part(remaining), "");
                    break;
                case < 90:
                    Do(w, Op.Release, PickHold(wallet).HoldId, null, "");
                    break;
                case < 97 when _issued.Count > 0:
                    // A retry: the same key and command again (a lost answer, a redelivery), maybe after a restart.
                    var previous = _issued[_random.Next(_issued.Count)];
                    var again = Call(_wallets[previous.Wallet], previous);
                    Assert.True(again.Error == previous.First.Error && again.EntrySequence == previous.First.EntrySequence, $"seed {seed}: retry of {previous.Key} answered {again}, first {previous.First}");
                    break;
                default:
                    if (_issued.Count > 0)
                    {
                        // The same key for another command: refused, nothing changes.
                        var reused = _issued[_random.Next(_issued.Count)];
                        var before = _wallets[reused.Wallet].ToState();
                        var conflict = _wallets[reused.Wallet].Credit(reused.Key, AssetBundle.Currency("GOLD", 999_999), "other", _now);
                        Assert.True(conflict.Error == LedgerError.IdempotencyConflict, $"seed {seed}: key reuse answered {conflict}");
                        StateAssert.Equal(before, _wallets[reused.Wallet].ToState());
                    }
                    break;
            }
        }

        private LedgerOutcome Do(int w, Op op, string? holdId, AssetBundle? assets, string reason)
        {
            var issued = new Issued(w, op, $"k{++_keys}", holdId, assets, reason, null!);
            var wallet = _wallets[w];
            var releasing = op == Op.Release && holdId is not null
                ? wallet.OpenHolds().FirstOrDefault(h => h.HoldId == holdId)?.Remaining
                : null;
            var outcome = Call(wallet, issued);
            _issued.Add(issued with { First = outcome });
            if (!outcome.Ok)
            {
                return outcome;
            }
            switch (op)
            {
                case Op.Credit:
                    Account(assets!, +1);
                    break;
                case Op.Debit or Op.Capture:
                    Account(assets!, -1);
                    break;
                case Op.Release:
                    Assert.NotNull(releasing);
                    break;
            }
            return outcome;
        }

        private LedgerOutcome Call(Wallet wallet, Issued c) => c.Op switch
        {
            Op.Credit => wallet.Credit(c.Key, c.Assets!, c.Reason, _now),
            Op.Debit => wallet.Debit(c.Key, c.Assets!, c.Reason, _now),
            Op.Hold => wallet.Hold(c.Key, c.HoldId!, c.Assets!, c.Reason, _now),
            Op.Capture => wallet.Capture(c.Key, c.HoldId!, c.Assets!, _now),
            _ => wallet.Release(c.Key, c.HoldId!, _now),
        };

        private void Account(AssetBundle assets, int sign)
        {
            foreach (var (code, amount) in assets.Currencies)
            {
                _inflow[code] = _inflow.GetValueOrDefault(code) + sign * (Int128)amount;
            }
            foreach (var (itemType, count) in assets.Stacks)
            {
                _inflow[itemType] = _inflow.GetValueOrDefault(itemType) + sign * (Int128)count;
            }
            foreach (var id in assets.Instances)
            {
                Assert.True(sign > 0 ? _circulating.Add(id) : _circulating.Remove(id), $"seed {seed}: instance {id} {(sign > 0 ? "created twice" : "destroyed but not circulating")}");
            }
        }

        private void CheckInvariants()
        {
            foreach (var code in Currencies)
            {
                Int128 owned = 0;
                foreach (var wallet in _wallets)
                {
                    Assert.True(wallet.Available(code) >= 0 && wallet.Held(code) >= 0, $"seed {seed}: negative {code} in {wallet.PlayerId}");
                    owned += (Int128)wallet.Available(code) + wallet.Held(code);
                }
                Assert.True(owned == _inflow.GetValueOrDefault(code), $"seed {seed}: {code} owned {owned}, came in {_inflow.GetValueOrDefault(code)}");
            }
            foreach (var itemType in ItemTypes)
            {
                Int128 owned = 0;
                foreach (var wallet in _wallets)
                {
                    Assert.True(wallet.AvailableItems(itemType) >= 0 && wallet.HeldItems(itemType) >= 0, $"seed {seed}: negative {itemType}");
                    owned += (Int128)wallet.AvailableItems(itemType) + wallet.HeldItems(itemType);
                }
                Assert.True(owned == _inflow.GetValueOrDefault(itemType), $"seed {seed}: {itemType} owned {owned}, came in {_inflow.GetValueOrDefault(itemType)}");
            }
            foreach (var id in _circulating)
            {
                Assert.True(_wallets.Count(w => w.OwnsInstance(id, out _)) == 1, $"seed {seed}: instance {id} is not in exactly one wallet");
            }
        }

        /// <summary>Every instance a wallet owns came in and did not leave: none created or duplicated by the ledger.</summary>
        private void CheckInstances()
        {
            var instances = _wallets.SelectMany(w => w.Balances().Instances.Select(i => i.Id)).ToList();
            Assert.True(instances.Count == _circulating.Count && _circulating.SetEquals(instances), $"seed {seed}: instances owned [{string.Join(",", instances)}], circulating [{string.Join(",", _circulating)}]");
        }

        private void ReplayEverything()
        {
            if (_random.Next(2) == 0)
            {
                for (var w = 0; w < _wallets.Length; w++)
                {
                    _wallets[w] = Wallet.FromState(_wallets[w].ToState());
                }
            }
            var before = _wallets.Select(w => w.ToState()).ToList();
            foreach (var issued in _issued)
            {
                var replay = Call(_wallets[issued.Wallet], issued);
                Assert.True(
                    replay.Replayed && replay.Error == issued.First.Error && replay.Message == issued.First.Message && replay.EntrySequence == issued.First.EntrySequence,
                    $"seed {seed}: replay of {issued.Key} answered {replay}, first {issued.First}");
            }
            for (var w = 0; w < _wallets.Length; w++)
            {
                StateAssert.Equal(before[w], _wallets[w].ToState());
            }
        }

        // ------------------------------------------------------------ generators

        private long Amount(long typical) => _random.Next(100) < 3 ? long.MaxValue / 2 + _random.NextInt64(long.MaxValue / 2) : 1 + _random.NextInt64(typical);

        private AssetBundle CreditBundle(Wallet wallet)
        {
            var bundle = new AssetBundle();
            do
            {
                switch (_random.Next(3))
                {
                    case 0:
                        bundle.Currencies[Currencies[_random.Next(Currencies.Length)]] = Amount(500);
                        break;
                    case 1:
                        bundle.Stacks[ItemTypes[_random.Next(ItemTypes.Length)]] = Amount(50);
                        break;
                    default:
                        var owned = wallet.Balances().Instances;
                        var id = owned.Count > 0 && _random.Next(10) == 0 ? owned[_random.Next(owned.Count)].Id : $"i{++_instances}";
                        if (!bundle.Instances.Contains(id))
                        {
                            bundle.Instances.Add(id);
                        }
                        break;
                }
            }
            while (_random.Next(3) == 0);
            return bundle;
        }

        /// <summary>Mostly what the wallet can afford, sometimes a bit more (refused), sometimes an unknown instance.</summary>
        private AssetBundle SpendBundle(Wallet wallet)
        {
            var bundle = new AssetBundle();
            do
            {
                switch (_random.Next(3))
                {
                    case 0:
                        var code = Currencies[_random.Next(Currencies.Length)];
                        bundle.Currencies[code] = 1 + _random.NextInt64(Math.Max(1, wallet.Available(code) + 20));
                        break;
                    case 1:
                        var itemType = ItemTypes[_random.Next(ItemTypes.Length)];
                        bundle.Stacks[itemType] = 1 + _random.NextInt64(Math.Max(1, wallet.AvailableItems(itemType) + 2));
                        break;
                    default:
                        var owned = wallet.Balances().Instances;
                        var id = owned.Count > 0 && _random.Next(8) != 0 ? owned[_random.Next(owned.Count)].Id : "nobody-has-this";
                        if (!bundle.Instances.Contains(id))
                        {
                            bundle.Instances.Add(id);
                        }
                        break;
                }
            }
            while (_random.Next(3) == 0);
            return bundle;
        }

        private (string HoldId, AssetBundle Remaining) PickHold(Wallet wallet)
        {
            var holds = wallet.OpenHolds();
            if (holds.Count == 0 || _random.Next(8) == 0)
            {
                return ($"h{_random.Next(8)}", AssetBundle.Currency("GOLD", 1 + _random.Next(10)));
            }
            var hold = holds[_random.Next(holds.Count)];
            return (hold.HoldId, hold.Remaining);
        }

        /// <summary>A random part of a hold's contents, now and then a little more than it has.</summary>
        private AssetBundle Part(AssetBundle remaining)
        {
            var part = new AssetBundle();
            foreach (var (code, amount) in remaining.Currencies.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (_random.Next(2) == 0)
                {
                    part.Currencies[code] = _random.Next(10) == 0 && amount < long.MaxValue ? amount + 1 : 1 + _random.NextInt64(amount);
                }
            }
            foreach (var (itemType, count) in remaining.Stacks.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (_random.Next(2) == 0)
                {
                    part.Stacks[itemType] = 1 + _random.NextInt64(count);
                }
            }
            foreach (var id in remaining.Instances.Order(StringComparer.Ordinal))
            {
                if (_random.Next(2) == 0)
                {
                    part.Instances.Add(id);
                }
            }
            return part.IsEmpty ? remaining.Copy() : part;
        }
    }

    private enum Op
    {
        Credit,
        Debit,
        Hold,
        Capture,
        Release,
    }

    private sealed record Issued(int Wallet, Op Op, string Key, string? HoldId, AssetBundle? Assets, string Reason, LedgerOutcome First);
}
