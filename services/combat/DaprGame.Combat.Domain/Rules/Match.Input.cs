using System.Runtime.CompilerServices;

namespace DaprGame.Combat.Domain.Rules;

/// <summary>The input gate: validation and anti-cheat counting before anything is queued.</summary>
internal sealed partial class Match
{
    private const int MaxMove = 1000;
    private const InputButtons KnownButtons = InputButtons.Fire | InputButtons.Ability1 | InputButtons.Ability2 | InputButtons.Jump;
    private const InputButtons AimedButtons = InputButtons.Fire | InputButtons.Ability1;

    /// <summary>
    /// Checks, first failure wins: in the match → well-formed (known buttons, 0 ≤ view tick ≤ tick, an aim when
    /// firing or launching) → sequence above the last accepted one (clients start at 1; a rejoin starts over) → the
    /// player's own entity → not too far ahead or behind the next tick → under the per-tick input limit → weapons
    /// ready at the next tick (and not already used by an input queued for it) → a move longer than 1000 is scaled
    /// down to 1000 and accepted as <see cref="InputVerdict.ClampedSpeed"/>. Refusals leave the simulation state
    /// untouched; every verdict but <see cref="InputVerdict.Accepted"/> is counted, and a player's refusals (not
    /// clamps) raise <see cref="CheatFlagged"/> at the configured threshold and every repeat after it.
    /// </summary>
    public InputVerdict Submit(string playerId, in PlayerInput input)
    {
        if (_over || !_playersById.TryGetValue(playerId, out var player) || !player.Active)
        {
            return Count(null, InputVerdict.RejectedNotInMatch);
        }
        if ((input.Buttons & ~KnownButtons) != 0 || input.Tick < 0 || input.ViewTick < 0 || input.ViewTick > input.Tick ||
            ((input.Buttons & AimedButtons) != 0 && input.AimX == 0 && input.AimY == 0))
        {
            return Count(player, InputVerdict.RejectedMalformed);
        }
        if (input.Sequence <= player.LastAcceptedSequence)
        {
            return Count(player, InputVerdict.RejectedSequence);
        }
        if (input.Entity != player.Entity)
        {
            return Count(player, InputVerdict.RejectedForeignEntity);
        }
        var next = _tick + 1;
        if (input.Tick > next + _options.FutureTicks)
        {
            return Count(player, InputVerdict.RejectedFuture);
        }
        if (input.Tick < next - _options.StaleTicks)
        {
            return Count(player, InputVerdict.RejectedStale);
        }
        if (player.QueuedThisTick >= _options.MaxInputsPerTick)
        {
            return Count(player, InputVerdict.RejectedFlood);
        }
        if (!WeaponsReady(player, input.Buttons, next))
        {
            return Count(player, InputVerdict.RejectedCooldown);
        }

        var accepted = input;
        var verdict = InputVerdict.Accepted;
        if ((long)input.MoveX * input.MoveX + (long)input.MoveY * input.MoveY > (long)MaxMove * MaxMove)
        {
            var (x, y) = FixedPoint.IntegerMath.Normalize(input.MoveX, input.MoveY, MaxMove);
            accepted = input with { MoveX = (short)x, MoveY = (short)y };
            verdict = InputVerdict.ClampedSpeed;
        }
        player.LastAcceptedSequence = input.Sequence;
        player.QueuedThisTick++;
        player.QueuedButtons |= input.Buttons;
        Enqueue(player, accepted);
        return verdict == InputVerdict.Accepted ? verdict : Count(player, verdict);
    }

    private bool WeaponsReady(PlayerSlot player, InputButtons buttons, int tick)
    {
        var wanted = buttons & (InputButtons.Fire | InputButtons.Ability1 | InputButtons.Ability2);
        if (wanted == 0)
        {
            return true;
        }
        if ((player.QueuedButtons & wanted) != 0)
        {
            return false;
        }
        ref var fighter = ref _fighters.TryGet(player.Entity);
        if (Unsafe.IsNullRef(ref fighter))
        {
            return true;
        }
        return ((wanted & InputButtons.Fire) == 0 || fighter.FireReadyTick <= tick)
            && ((wanted & InputButtons.Ability1) == 0 || fighter.RocketReadyTick <= tick)
            && ((wanted & InputButtons.Ability2) == 0 || fighter.BlastReadyTick <= tick);
    }

    private void Enqueue(PlayerSlot player, in PlayerInput input)
    {
        if (_queueCount == _queue.Length)
        {
            Array.Resize(ref _queue, _queue.Length * 2);
        }
        _queue[_queueCount++] = (player.Index, input);
        _log.Input(player.Index, input);
    }

    private InputVerdict Count(PlayerSlot? player, InputVerdict verdict)
    {
        _verdicts[verdict] = _verdicts.GetValueOrDefault(verdict) + 1;
        // Only refusals count toward a flag: a clamped move still plays (a client may send a full-speed diagonal).
        if (player is null || verdict == InputVerdict.ClampedSpeed)
        {
            return verdict;
        }
        var refused = ++player.Refused;
        var threshold = _options.CheatFlagThreshold;
        if (refused == threshold || (refused > threshold && (refused - threshold) % _options.CheatFlagRepeat == 0))
        {
            AddOccurrence(new CheatFlagged(_tick + 1, player.Id, verdict, (int)refused));
        }
        return verdict;
    }

    private void ApplyInputs()
    {
        for (var i = 0; i < _queueCount; i++)
        {
            var (index, input) = _queue[i];
            var player = _players[index];
            player.LastProcessedSequence = input.Sequence;
            ref var mover = ref _movers.TryGet(input.Entity);
            ref var fighter = ref _fighters.TryGet(input.Entity);
            if (Unsafe.IsNullRef(ref mover) || Unsafe.IsNullRef(ref fighter) || fighter.Player != index)
            {
                continue;
            }
            mover.WishX = input.MoveX;
            mover.WishY = input.MoveY;
            var actions = input.Buttons & (InputButtons.Fire | InputButtons.Ability1 | InputButtons.Ability2);
            if (actions != 0)
            {
                fighter.Pending |= actions;
                fighter.AimX = input.AimX;
                fighter.AimY = input.AimY;
                fighter.ViewTick = input.ViewTick;
            }
        }
        _queueCount = 0;
    }
}
