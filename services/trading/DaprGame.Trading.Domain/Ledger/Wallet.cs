using System.Security.Cryptography;
using System.Text;

namespace DaprGame.Trading.Domain.Ledger;

/// <summary>
/// One player's currencies, item stacks and item instances, with holds (escrow) and a ledger entry for every change.
/// <list type="bullet">
/// <item>No balance is ever negative, and a wallet's total (available + held) of any asset fits a <see cref="long"/>.</item>
/// <item>Every command carries an idempotency key. The same key with the same command gives the first answer again,
/// with <see cref="LedgerOutcome.Replayed"/> set and nothing changed; the same key with a different command is refused
/// with <see cref="LedgerError.IdempotencyConflict"/>.</item>
/// <item>All or nothing: a refused command changes no balance, hold or entry, whatever the bundle holds.</item>
/// <item>Refusals decided against the wallet's contents (insufficient funds, unknown hold, …) are remembered with their
/// key, like successes: a retry of a command whose answer was lost gets the same answer even if the wallet changed
/// since. To try again once the cause is gone, a caller uses a new key. Malformed commands
/// (<see cref="LedgerError.InvalidKey"/>, <see cref="LedgerError.InvalidAmount"/>) and conflicts are not remembered:
/// they change nothing at all.</item>
/// <item>What is remembered, and for how long, is bounded: see <see cref="LedgerRetention"/>.</item>
/// </list>
/// Single-threaded: its owner (the Wallet actor) runs one command at a time. Times are passed in, never read here.
/// </summary>
public sealed class Wallet
{
    private const string FencedFingerprint = "fenced";

    private readonly Dictionary<string, long> _currencies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _stacks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HoldState> _holds = new(StringComparer.Ordinal);

    // Totals of the open holds, kept beside them so reads and checks do not sum every hold.
    private readonly Dictionary<string, long> _heldCurrencies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _heldStacks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _heldInstances = new(StringComparer.Ordinal);

    private readonly Queue<ClosedHoldState> _closedHolds = new();
    private readonly HashSet<string> _closedHoldIds = new(StringComparer.Ordinal);
    private readonly Queue<RememberedKeyState> _keyOrder = new();
    private readonly Dictionary<string, RememberedKeyState> _keys = new(StringComparer.Ordinal);
    private readonly List<LedgerEntry> _entries = [];
    private long _lastSequence;

    private Wallet(string playerId) => PlayerId = playerId;

    public string PlayerId { get; }

    /// <summary>The sequence of the last entry written (0: none yet).</summary>
    public long LastSequence => _lastSequence;

    /// <summary>Grows by one with every command that wrote entries (0: none yet); replays and refusals leave it.</summary>
    public long Version { get; private set; }

    /// <summary>A new, empty wallet.</summary>
    public static Wallet Open(string playerId)
    {
        if (!LedgerIds.IsValidPlayerId(playerId))
        {
            throw new ArgumentException($"player id '{playerId}' is not 1–64 of [A-Za-z0-9_.-]", nameof(playerId));
        }
        return new Wallet(playerId);
    }

    // ---------------------------------------------------------------- commands

    /// <summary>Assets come in from outside (loot, purchase, the other side of a trade). Instances must not be owned already.</summary>
    public LedgerOutcome Credit(string key, AssetBundle assets, string reason, DateTimeOffset at) =>
        Run(new Command(LedgerEntryKind.Credit, key, null, assets, reason), at, CheckCredit, ApplyCredit);

    /// <summary>Assets leave the wallet from what is available (held assets cannot be debited).</summary>
    public LedgerOutcome Debit(string key, AssetBundle assets, string reason, DateTimeOffset at) =>
        Run(new Command(LedgerEntryKind.Debit, key, null, assets, reason), at, CheckAvailable, ApplyDebit);

    /// <summary>Opens hold <paramref name="holdId"/>: the assets move from available to held, reserved for a trade.</summary>
    public LedgerOutcome Hold(string key, string holdId, AssetBundle assets, string reason, DateTimeOffset at) =>
        Run(new Command(LedgerEntryKind.Hold, key, holdId, assets, reason), at, CheckHold, ApplyHold);

    /// <summary>
    /// Part (or all) of a hold leaves the wallet. The hold stays open with the rest until it is released, or closes when
    /// emptied. Asking for more than the hold has left is <see cref="LedgerError.HoldExceeded"/>.
    /// </summary>
    public LedgerOutcome Capture(string key, string holdId, AssetBundle assets, DateTimeOffset at) =>
        Run(new Command(LedgerEntryKind.Capture, key, holdId, assets, ""), at, CheckCapture, ApplyCapture);

    /// <summary>What is left of the hold goes back to available, and the hold is closed.</summary>
    public LedgerOutcome Release(string key, string holdId, DateTimeOffset at) =>
        Run(new Command(LedgerEntryKind.Release, key, holdId, null, ""), at, CheckRelease, ApplyRelease);

    /// <summary>
    /// Part of a hold back to available; the hold stays open for the rest (and closes when emptied). An order book uses
    /// it when an order ends while settlements of its fills still have to capture their share of the hold.
    /// </summary>
    public LedgerOutcome ReleasePart(string key, string holdId, AssetBundle assets, DateTimeOffset at) =>
        Run(new Command(LedgerEntryKind.Release, key, holdId, assets ?? AssetBundle.Empty, ""), at, CheckCapture, ApplyReleasePart);

    /// <summary>The remembered answer for a key, if it is still retained (as first given: not marked replayed).</summary>
    public LedgerOutcome? Recall(string key)
    {
        if (!_keys.TryGetValue(key, out var remembered))
        {
            return null;
        }
        return remembered.Fingerprint == FencedFingerprint
            ? new LedgerOutcome(LedgerError.IdempotencyConflict, $"key {key} was fenced: it will never be applied", false, 0)
            : new LedgerOutcome(remembered.Error, remembered.Message, false, remembered.EntrySequence);
    }

    /// <summary>
    /// Settles the fate of a key whose command may still be in flight (its caller gave up waiting for an answer).
    /// Returns true when the key was applied (nothing changes). Otherwise the key is remembered as fenced, so the
    /// command, should it arrive later, is refused with <see cref="LedgerError.IdempotencyConflict"/>; returns false.
    /// A key that was refused stays refused (a retry replays the refusal), so it is not applied either: false.
    /// </summary>
    public bool FenceKey(string key, DateTimeOffset at)
    {
        if (!LedgerIds.IsValidKey(key))
        {
            throw new ArgumentException($"key '{key}' is not 1–128 of [A-Za-z0-9._:-]", nameof(key));
        }
        if (_keys.TryGetValue(key, out var remembered))
        {
            return remembered.Fingerprint != FencedFingerprint && remembered.Error == LedgerError.None;
        }
        Remember(key, FencedFingerprint, LedgerError.IdempotencyConflict, "fenced", 0, at);
        Prune(at);
        return false;
    }

    // ---------------------------------------------------------------- reads

    public long Available(string currency) => _currencies.GetValueOrDefault(currency);

    public long Held(string currency) => _heldCurrencies.GetValueOrDefault(currency);

    public long AvailableItems(string itemType) => _stacks.GetValueOrDefault(itemType);

    public long HeldItems(string itemType) => _heldStacks.GetValueOrDefault(itemType);

    /// <summary>True when the wallet owns the instance; <paramref name="held"/> says whether a hold reserves it.</summary>
    public bool OwnsInstance(string id, out bool held)
    {
        held = _heldInstances.ContainsKey(id);
        return held || _instances.Contains(id);
    }

    /// <summary>The open holds, in the order they were opened.</summary>
    public IReadOnlyList<HoldView> OpenHolds() =>
        [.. _holds.Values.OrderBy(h => h.OpenedAt).Select(h => new HoldView(h.HoldId, h.Remaining.Copy(), h.Reason, h.CreatedAt))];

    /// <summary>Every asset the wallet owns, available and held.</summary>
    public BalanceView Balances()
    {
        var currencies = _currencies.Keys.Union(_heldCurrencies.Keys).Order(StringComparer.Ordinal)
            .Select(c => new CurrencyBalance(c, Available(c), Held(c)));
        var stacks = _stacks.Keys.Union(_heldStacks.Keys).Order(StringComparer.Ordinal)
            .Select(t => new StackBalance(t, AvailableItems(t), HeldItems(t)));
        var instances = _instances.Select(id => new InstanceBalance(id, false, null))
            .Concat(_heldInstances.Select(p => new InstanceBalance(p.Key, true, p.Value)))
            .OrderBy(i => i.Id, StringComparer.Ordinal);
        return new BalanceView([.. currencies], [.. stacks], [.. instances]);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> retained entries with a sequence above <paramref name="afterSequence"/>, ascending.
    /// Page with the last sequence returned; entries older than the retained window are not here (see
    /// <see cref="LedgerRetention.EntriesKept"/>).
    /// </summary>
    public IReadOnlyList<LedgerEntry> Entries(long afterSequence, int limit)
    {
        if (limit <= 0 || _entries.Count == 0)
        {
            return [];
        }
        // Sequences are contiguous within the retained window, so the start is an index, not a search.
        var first = _entries[0].Sequence;
        var start = afterSequence < first ? 0 : afterSequence - first + 1;
        if (start >= _entries.Count)
        {
            return [];
        }
        var count = (int)Math.Min(limit, _entries.Count - start);
        return _entries.GetRange((int)start, count);
    }

    // ---------------------------------------------------------------- state

    /// <summary>The wallet as stored: deep copies in a fixed order, so equal wallets give equal states.</summary>
    public WalletState ToState() => new()
    {
        PlayerId = PlayerId,
        Currencies = Sorted(_currencies),
        Stacks = Sorted(_stacks),
        Instances = [.. _instances.Order(StringComparer.Ordinal)],
        Holds =
        [
            .. _holds.Values.OrderBy(h => h.OpenedAt).Select(h => new HoldState
            {
                HoldId = h.HoldId,
                Remaining = Canonical(h.Remaining),
                Reason = h.Reason,
                CreatedAt = h.CreatedAt,
                OpenedAt = h.OpenedAt,
            }),
        ],
        ClosedHolds = [.. _closedHolds.Select(c => new ClosedHoldState { HoldId = c.HoldId, ClosedAt = c.ClosedAt })],
        Keys = [.. _keyOrder.Select(Clone)],
        Entries = [.. _entries],
        LastSequence = _lastSequence,
        Version = Version,
    };

    /// <summary>A wallet as it was stored. Throws <see cref="ArgumentException"/> when the state breaks an invariant.</summary>
    public static Wallet FromState(WalletState state)
    {
        var wallet = Open(state.PlayerId);
        foreach (var (code, amount) in state.Currencies)
        {
            Require(LedgerIds.IsValidCurrency(code) && amount > 0, $"currency {code} = {amount}");
            wallet._currencies[code] = amount;
        }
        foreach (var (itemType, count) in state.Stacks)
        {
            Require(LedgerIds.IsValidItemType(itemType) && count > 0, $"stack {itemType} = {count}");
            wallet._stacks[itemType] = count;
        }
        foreach (var id in state.Instances)
        {
            Require(LedgerIds.IsValidInstanceId(id) && wallet._instances.Add(id), $"instance {id}");
        }
        foreach (var hold in state.Holds)
        {
            Require(LedgerIds.IsValidKey(hold.HoldId) && !wallet._holds.ContainsKey(hold.HoldId), $"hold {hold.HoldId}");
            Require(hold.Remaining.Validate().Error == LedgerError.None && !hold.Remaining.IsEmpty, $"hold {hold.HoldId} contents");
            var copy = new HoldState
            {
                HoldId = hold.HoldId,
                Remaining = hold.Remaining.Copy(),
                Reason = hold.Reason,
                CreatedAt = hold.CreatedAt,
                OpenedAt = hold.OpenedAt,
            };
            wallet._holds[copy.HoldId] = copy;
            foreach (var (code, amount) in copy.Remaining.Currencies)
            {
                Add(wallet._heldCurrencies, code, amount);
            }
            foreach (var (itemType, count) in copy.Remaining.Stacks)
            {
                Add(wallet._heldStacks, itemType, count);
            }
            foreach (var id in copy.Remaining.Instances)
            {
                Require(!wallet._instances.Contains(id) && wallet._heldInstances.TryAdd(id, copy.HoldId), $"instance {id} in hold {copy.HoldId}");
            }
        }
        foreach (var closed in state.ClosedHolds)
        {
            Require(!wallet._holds.ContainsKey(closed.HoldId) && wallet._closedHoldIds.Add(closed.HoldId), $"closed hold {closed.HoldId}");
            wallet._closedHolds.Enqueue(new ClosedHoldState { HoldId = closed.HoldId, ClosedAt = closed.ClosedAt });
        }
        foreach (var remembered in state.Keys)
        {
            var copy = Clone(remembered);
            Require(wallet._keys.TryAdd(copy.Key, copy), $"key {copy.Key} remembered twice");
            wallet._keyOrder.Enqueue(copy);
        }
        for (var i = 0; i < state.Entries.Count; i++)
        {
            Require(i == 0 || state.Entries[i].Sequence == state.Entries[i - 1].Sequence + 1, "entries not contiguous");
        }
        Require(state.Entries.Count == 0 || state.Entries[^1].Sequence == state.LastSequence, "last entry is not LastSequence");
        wallet._entries.AddRange(state.Entries);
        wallet._lastSequence = state.LastSequence;
        wallet.Version = state.Version;
        return wallet;
    }

    // ---------------------------------------------------------------- the command pipeline

    /// <summary>Check the shape, then the key, then the rules; apply only when all pass.</summary>
    private LedgerOutcome Run(Command command, DateTimeOffset at, Func<Command, Refusal?> decide, Action<Command, DateTimeOffset> apply)
    {
        if (Malformed(command) is { } malformed)
        {
            return new LedgerOutcome(malformed.Error, malformed.Message, false, 0);
        }
        var fingerprint = Fingerprint(command);
        if (_keys.TryGetValue(command.Key, out var remembered))
        {
            return remembered.Fingerprint == fingerprint
                ? new LedgerOutcome(remembered.Error, remembered.Message, true, remembered.EntrySequence)
                : new LedgerOutcome(LedgerError.IdempotencyConflict, $"key {command.Key} was used for a different command", false, 0);
        }
        if (decide(command) is { } refusal)
        {
            Remember(command.Key, fingerprint, refusal.Error, refusal.Message, 0, at);
            Prune(at);
            return new LedgerOutcome(refusal.Error, refusal.Message, false, 0);
        }
        var before = _lastSequence;
        apply(command, at);
        if (_lastSequence != before)
        {
            Version++;
        }
        Remember(command.Key, fingerprint, LedgerError.None, null, _lastSequence, at);
        Prune(at);
        return new LedgerOutcome(LedgerError.None, null, false, _lastSequence);
    }

    private static Refusal? Malformed(Command command)
    {
        if (!LedgerIds.IsValidKey(command.Key))
        {
            return new(LedgerError.InvalidKey, $"idempotency key '{command.Key}' is not 1–128 of [A-Za-z0-9._:-]");
        }
        if (command.Op is LedgerEntryKind.Hold or LedgerEntryKind.Capture or LedgerEntryKind.Release && !LedgerIds.IsValidKey(command.HoldId))
        {
            return new(LedgerError.InvalidKey, $"hold id '{command.HoldId}' is not 1–128 of [A-Za-z0-9._:-]");
        }
        if (!LedgerIds.IsValidReason(command.Reason))
        {
            return new(LedgerError.InvalidKey, $"reason is missing, longer than {LedgerIds.MaxReasonLength} characters or has control characters");
        }
        if (command.Op == LedgerEntryKind.Release && command.Assets is null)
        {
            return null;
        }
        if (command.Assets is null)
        {
            return new(LedgerError.InvalidAmount, "no assets given");
        }
        var (error, message) = command.Assets.Validate();
        if (error != LedgerError.None)
        {
            return new(error, message!);
        }
        return command.Assets.IsEmpty ? new(LedgerError.InvalidAmount, "the bundle moves nothing") : null;
    }

    private static string Fingerprint(Command command)
    {
        var text = $"{command.Op}|{command.HoldId?.Length}:{command.HoldId}|{command.Reason.Length}:{command.Reason}|{command.Assets?.Canonical()}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));
    }

    private void Remember(string key, string fingerprint, LedgerError error, string? message, long entrySequence, DateTimeOffset at)
    {
        var remembered = new RememberedKeyState
        {
            Key = key,
            Fingerprint = fingerprint,
            Error = error,
            Message = message,
            EntrySequence = entrySequence,
            At = at,
        };
        _keys.Add(key, remembered);
        _keyOrder.Enqueue(remembered);
    }

    /// <summary>Applies <see cref="LedgerRetention"/> as of <paramref name="at"/>.</summary>
    private void Prune(DateTimeOffset at)
    {
        var cutoff = at - DateTimeOffset.MinValue > LedgerRetention.KeyAge ? at - LedgerRetention.KeyAge : DateTimeOffset.MinValue;
        while (_keyOrder.Count > LedgerRetention.KeysKept && (_keyOrder.Count > LedgerRetention.KeysMax || _keyOrder.Peek().At <= cutoff))
        {
            _keys.Remove(_keyOrder.Dequeue().Key);
        }
        while (_closedHolds.Count > LedgerRetention.KeysKept && (_closedHolds.Count > LedgerRetention.KeysMax || _closedHolds.Peek().ClosedAt <= cutoff))
        {
            _closedHoldIds.Remove(_closedHolds.Dequeue().HoldId);
        }
        if (_entries.Count > LedgerRetention.EntriesKept)
        {
            _entries.RemoveRange(0, _entries.Count - LedgerRetention.EntriesKept);
        }
    }

    // ---------------------------------------------------------------- rules

    private Refusal? CheckCredit(Command command)
    {
        var assets = command.Assets!;
        foreach (var (code, amount) in AssetBundle.Ordered(assets.Currencies))
        {
            if (long.MaxValue - Available(code) - Held(code) < amount)
            {
                return new(LedgerError.Overflow, $"{code}: {Available(code)} + {Held(code)} held + {amount} does not fit a long");
            }
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(assets.Stacks))
        {
            if (long.MaxValue - AvailableItems(itemType) - HeldItems(itemType) < count)
            {
                return new(LedgerError.Overflow, $"{itemType}: {AvailableItems(itemType)} + {HeldItems(itemType)} held + {count} does not fit a long");
            }
        }
        foreach (var id in AssetBundle.Sorted(assets.Instances))
        {
            if (OwnsInstance(id, out _))
            {
                return new(LedgerError.InstanceAlreadyOwned, $"instance {id} is already in this wallet");
            }
        }
        return null;
    }

    private Refusal? CheckAvailable(Command command)
    {
        var assets = command.Assets!;
        foreach (var (code, amount) in AssetBundle.Ordered(assets.Currencies))
        {
            if (Available(code) < amount)
            {
                return new(LedgerError.InsufficientFunds, $"{code}: {amount} needed, {Available(code)} available");
            }
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(assets.Stacks))
        {
            if (AvailableItems(itemType) < count)
            {
                return new(LedgerError.InsufficientItems, $"{itemType}: {count} needed, {AvailableItems(itemType)} available");
            }
        }
        foreach (var id in AssetBundle.Sorted(assets.Instances))
        {
            if (_heldInstances.TryGetValue(id, out var holdId))
            {
                return new(LedgerError.InsufficientItems, $"instance {id} is held by {holdId}");
            }
            if (!_instances.Contains(id))
            {
                return new(LedgerError.UnknownInstance, $"instance {id} is not in this wallet");
            }
        }
        return null;
    }

    private Refusal? CheckHold(Command command) =>
        _holds.ContainsKey(command.HoldId!) || _closedHoldIds.Contains(command.HoldId!)
            ? new(LedgerError.DuplicateHold, $"hold {command.HoldId} exists or existed; hold ids are not reused")
            : CheckAvailable(command);

    private Refusal? CheckCapture(Command command)
    {
        if (OpenHold(command.HoldId!) is { } refusal)
        {
            return refusal;
        }
        var remaining = _holds[command.HoldId!].Remaining;
        var assets = command.Assets!;
        foreach (var (code, amount) in AssetBundle.Ordered(assets.Currencies))
        {
            if (remaining.Currencies.GetValueOrDefault(code) < amount)
            {
                return new(LedgerError.HoldExceeded, $"{code}: {amount} asked, {remaining.Currencies.GetValueOrDefault(code)} left in hold {command.HoldId}");
            }
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(assets.Stacks))
        {
            if (remaining.Stacks.GetValueOrDefault(itemType) < count)
            {
                return new(LedgerError.HoldExceeded, $"{itemType}: {count} asked, {remaining.Stacks.GetValueOrDefault(itemType)} left in hold {command.HoldId}");
            }
        }
        foreach (var id in AssetBundle.Sorted(assets.Instances))
        {
            if (_heldInstances.GetValueOrDefault(id) != command.HoldId)
            {
                return new(LedgerError.HoldExceeded, $"instance {id} is not in hold {command.HoldId}");
            }
        }
        return null;
    }

    private Refusal? CheckRelease(Command command) => OpenHold(command.HoldId!);

    private Refusal? OpenHold(string holdId) =>
        _holds.ContainsKey(holdId) ? null
        : _closedHoldIds.Contains(holdId) ? new(LedgerError.HoldClosed, $"hold {holdId} is closed")
        : new(LedgerError.UnknownHold, $"no hold {holdId}");

    // ---------------------------------------------------------------- effects (only after every check passed)

    private void ApplyCredit(Command command, DateTimeOffset at)
    {
        var assets = command.Assets!;
        foreach (var (code, amount) in AssetBundle.Ordered(assets.Currencies))
        {
            var after = Add(_currencies, code, amount);
            Write(command, LedgerAsset.Currency(code), amount, 0, after, Held(code), null, command.Reason, at);
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(assets.Stacks))
        {
            var after = Add(_stacks, itemType, count);
            Write(command, LedgerAsset.Stack(itemType), count, 0, after, HeldItems(itemType), null, command.Reason, at);
        }
        foreach (var id in AssetBundle.Sorted(assets.Instances))
        {
            _instances.Add(id);
            Write(command, LedgerAsset.Instance(id), 1, 0, 1, 0, null, command.Reason, at);
        }
    }

    private void ApplyDebit(Command command, DateTimeOffset at)
    {
        var assets = command.Assets!;
        foreach (var (code, amount) in AssetBundle.Ordered(assets.Currencies))
        {
            var after = Add(_currencies, code, -amount);
            Write(command, LedgerAsset.Currency(code), -amount, 0, after, Held(code), null, command.Reason, at);
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(assets.Stacks))
        {
            var after = Add(_stacks, itemType, -count);
            Write(command, LedgerAsset.Stack(itemType), -count, 0, after, HeldItems(itemType), null, command.Reason, at);
        }
        foreach (var id in AssetBundle.Sorted(assets.Instances))
        {
            _instances.Remove(id);
            Write(command, LedgerAsset.Instance(id), -1, 0, 0, 0, null, command.Reason, at);
        }
    }

    private void ApplyHold(Command command, DateTimeOffset at)
    {
        var holdId = command.HoldId!;
        var assets = command.Assets!;
        _holds[holdId] = new HoldState
        {
            HoldId = holdId,
            Remaining = assets.Copy(),
            Reason = command.Reason,
            CreatedAt = at,
            OpenedAt = _lastSequence + 1,
        };
        foreach (var (code, amount) in AssetBundle.Ordered(assets.Currencies))
        {
            var available = Add(_currencies, code, -amount);
            var held = Add(_heldCurrencies, code, amount);
            Write(command, LedgerAsset.Currency(code), -amount, amount, available, held, holdId, command.Reason, at);
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(assets.Stacks))
        {
            var available = Add(_stacks, itemType, -count);
            var held = Add(_heldStacks, itemType, count);
            Write(command, LedgerAsset.Stack(itemType), -count, count, available, held, holdId, command.Reason, at);
        }
        foreach (var id in AssetBundle.Sorted(assets.Instances))
        {
            _instances.Remove(id);
            _heldInstances[id] = holdId;
            Write(command, LedgerAsset.Instance(id), -1, 1, 0, 1, holdId, command.Reason, at);
        }
    }

    private void ApplyCapture(Command command, DateTimeOffset at)
    {
        var hold = _holds[command.HoldId!];
        var assets = command.Assets!;
        foreach (var (code, amount) in AssetBundle.Ordered(assets.Currencies))
        {
            Add(hold.Remaining.Currencies, code, -amount);
            var held = Add(_heldCurrencies, code, -amount);
            Write(command, LedgerAsset.Currency(code), 0, -amount, Available(code), held, hold.HoldId, hold.Reason, at);
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(assets.Stacks))
        {
            Add(hold.Remaining.Stacks, itemType, -count);
            var held = Add(_heldStacks, itemType, -count);
            Write(command, LedgerAsset.Stack(itemType), 0, -count, AvailableItems(itemType), held, hold.HoldId, hold.Reason, at);
        }
        foreach (var id in AssetBundle.Sorted(assets.Instances))
        {
            hold.Remaining.Instances.Remove(id);
            _heldInstances.Remove(id);
            Write(command, LedgerAsset.Instance(id), 0, -1, 0, 0, hold.HoldId, hold.Reason, at);
        }
        if (hold.Remaining.IsEmpty)
        {
            Close(hold, at);
        }
    }

    private void ApplyRelease(Command command, DateTimeOffset at)
    {
        var hold = _holds[command.HoldId!];
        foreach (var (code, amount) in AssetBundle.Ordered(hold.Remaining.Currencies))
        {
            var available = Add(_currencies, code, amount);
            var held = Add(_heldCurrencies, code, -amount);
            Write(command, LedgerAsset.Currency(code), amount, -amount, available, held, hold.HoldId, hold.Reason, at);
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(hold.Remaining.Stacks))
        {
            var available = Add(_stacks, itemType, count);
            var held = Add(_heldStacks, itemType, -count);
            Write(command, LedgerAsset.Stack(itemType), count, -count, available, held, hold.HoldId, hold.Reason, at);
        }
        foreach (var id in AssetBundle.Sorted(hold.Remaining.Instances))
        {
            _heldInstances.Remove(id);
            _instances.Add(id);
            Write(command, LedgerAsset.Instance(id), 1, -1, 1, 0, hold.HoldId, hold.Reason, at);
        }
        Close(hold, at);
    }

    private void ApplyReleasePart(Command command, DateTimeOffset at)
    {
        var hold = _holds[command.HoldId!];
        var assets = command.Assets!;
        foreach (var (code, amount) in AssetBundle.Ordered(assets.Currencies))
        {
            Add(hold.Remaining.Currencies, code, -amount);
            var available = Add(_currencies, code, amount);
            var held = Add(_heldCurrencies, code, -amount);
            Write(command, LedgerAsset.Currency(code), amount, -amount, available, held, hold.HoldId, hold.Reason, at);
        }
        foreach (var (itemType, count) in AssetBundle.Ordered(assets.Stacks))
        {
            Add(hold.Remaining.Stacks, itemType, -count);
            var available = Add(_stacks, itemType, count);
            var held = Add(_heldStacks, itemType, -count);
            Write(command, LedgerAsset.Stack(itemType), count, -count, available, held, hold.HoldId, hold.Reason, at);
        }
        foreach (var id in AssetBundle.Sorted(assets.Instances))
        {
            hold.Remaining.Instances.Remove(id);
            _heldInstances.Remove(id);
            _instances.Add(id);
            Write(command, LedgerAsset.Instance(id), 1, -1, 1, 0, hold.HoldId, hold.Reason, at);
        }
        if (hold.Remaining.IsEmpty)
        {
            Close(hold, at);
        }
    }

    private void Close(HoldState hold, DateTimeOffset at)
    {
        _holds.Remove(hold.HoldId);
        _closedHolds.Enqueue(new ClosedHoldState { HoldId = hold.HoldId, ClosedAt = at });
        _closedHoldIds.Add(hold.HoldId);
    }

    private void Write(Command command, string asset, long deltaAvailable, long deltaHeld, long availableAfter, long heldAfter, string? holdId, string reason, DateTimeOffset at)
    {
        _lastSequence++;
        _entries.Add(new LedgerEntry(_lastSequence, command.Key, command.Op, asset, deltaAvailable, deltaHeld, availableAfter, heldAfter, holdId, reason, at));
    }

    /// <summary>Adds to a balance and returns the new value; a balance at zero is removed, so state lists only what is owned.</summary>
    private static long Add(Dictionary<string, long> balances, string name, long delta)
    {
        var after = balances.GetValueOrDefault(name) + delta;
        if (after == 0)
        {
            balances.Remove(name);
        }
        else
        {
            balances[name] = after;
        }
        return after;
    }

    private static Dictionary<string, long> Sorted(Dictionary<string, long> balances) =>
        AssetBundle.Ordered(balances).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static AssetBundle Canonical(AssetBundle bundle) => new()
    {
        Currencies = Sorted(bundle.Currencies),
        Stacks = Sorted(bundle.Stacks),
        Instances = [.. AssetBundle.Sorted(bundle.Instances)],
    };

    private static RememberedKeyState Clone(RememberedKeyState k) => new()
    {
        Key = k.Key,
        Fingerprint = k.Fingerprint,
        Error = k.Error,
        Message = k.Message,
        EntrySequence = k.EntrySequence,
        At = k.At,
    };

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new ArgumentException($"wallet state is not valid: {what}");
        }
    }

    private readonly record struct Command(LedgerEntryKind Op, string Key, string? HoldId, AssetBundle? Assets, string Reason);

    private sealed record Refusal(LedgerError Error, string Message);
}
