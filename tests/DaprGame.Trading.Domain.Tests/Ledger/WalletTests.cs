using DaprGame.Trading.Domain.Ledger;

namespace DaprGame.Trading.Domain.Tests.Ledger;

public sealed class WalletTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static Wallet Funded()
    {
        var wallet = Wallet.Open("alice");
        var credit = AssetBundle.Currency("GOLD", 1_000).WithCurrency("SILVER", 50).WithItems("iron_ore", 20).WithInstances("sword-1", "shield-1");
        Assert.True(wallet.Credit("seed", credit, "starter kit", T0).Ok);
        return wallet;
    }

    /// <summary>The wallet's assets, holds and entries: what a refusal must not change (remembered keys aside).</summary>
    private static WalletState Assets(Wallet wallet)
    {
        var state = wallet.ToState();
        state.Keys = [];
        return state;
    }

    // ---------------------------------------------------------------- credit and debit

    [Fact]
    public void Credit_adds_every_asset_and_writes_one_entry_per_asset()
    {
        var wallet = Funded();

        Assert.Equal(1_000, wallet.Available("GOLD"));
        Assert.Equal(50, wallet.Available("SILVER"));
        Assert.Equal(20, wallet.AvailableItems("iron_ore"));
        Assert.True(wallet.OwnsInstance("sword-1", out var held));
        Assert.False(held);
        var entries = wallet.Entries(0, 100);
        Assert.Equal(
            ["currency:GOLD", "currency:SILVER", "stack:iron_ore", "instance:shield-1", "instance:sword-1"],
            entries.Select(e => e.Asset));
        Assert.Equal([1L, 2, 3, 4, 5], entries.Select(e => e.Sequence));
        Assert.All(entries, e => Assert.Equal(LedgerEntryKind.Credit, e.Kind));
        Assert.All(entries, e => Assert.Equal("seed", e.Key));
        Assert.Equal(new LedgerEntry(1, "seed", LedgerEntryKind.Credit, "currency:GOLD", 1_000, 0, 1_000, 0, null, "starter kit", T0), entries[0]);
        Assert.Equal(5, wallet.LastSequence);
    }

    [Fact]
    public void The_version_counts_changes_once_each_whatever_their_entries_and_not_replays_or_refusals()
    {
        var wallet = Funded();   // one credit of five assets
        Assert.Equal(1, wallet.Version);

        Assert.True(wallet.Hold("h1", "order-1", AssetBundle.Currency("GOLD", 100), "order", T0).Ok);
        Assert.True(wallet.Hold("h1", "order-1", AssetBundle.Currency("GOLD", 100), "order", T0).Replayed);
        Assert.False(wallet.Debit("too-much", AssetBundle.Currency("GOLD", 5_000), "spend", T0).Ok);
        Assert.Equal(2, wallet.Version);

        Assert.Equal(2, Wallet.FromState(wallet.ToState()).Version);
    }

    [Fact]
    public void Credit_answers_with_the_last_entry_written()
    {
        var wallet = Funded();
        var outcome = wallet.Credit("more", AssetBundle.Currency("GOLD", 5), "quest", T0);
        Assert.Equal(new LedgerOutcome(LedgerError.None, null, false, 6), outcome);
        Assert.Equal(new LedgerEntry(6, "more", LedgerEntryKind.Credit, "currency:GOLD", 5, 0, 1_005, 0, null, "quest", T0), wallet.Entries(5, 10).Single());
    }

    [Fact]
    public void Debit_takes_from_available_only()
    {
        var wallet = Funded();
        Assert.True(wallet.Hold("h", "hold-1", AssetBundle.Currency("GOLD", 900), "order", T0).Ok);

        var refused = wallet.Debit("d1", AssetBundle.Currency("GOLD", 200), "shop", T0);
        Assert.Equal(LedgerError.InsufficientFunds, refused.Error);
        Assert.Equal(100, wallet.Available("GOLD"));

        Assert.True(wallet.Debit("d2", AssetBundle.Currency("GOLD", 100), "shop", T0).Ok);
        Assert.Equal(0, wallet.Available("GOLD"));
        Assert.Equal(900, wallet.Held("GOLD"));
        var last = wallet.Entries(wallet.LastSequence - 1, 1).Single();
        Assert.Equal((LedgerEntryKind.Debit, -100L, 0L, 0L, 900L), (last.Kind, last.DeltaAvailable, last.DeltaHeld, last.AvailableAfter, last.HeldAfter));
    }

    [Fact]
    public void Debit_of_items_and_instances()
    {
        var wallet = Funded();
        Assert.True(wallet.Debit("d", AssetBundle.Items("iron_ore", 20).WithInstances("sword-1"), "crafting", T0).Ok);

        Assert.Equal(0, wallet.AvailableItems("iron_ore"));
        Assert.False(wallet.OwnsInstance("sword-1", out _));
        Assert.Equal(LedgerError.InsufficientItems, wallet.Debit("d2", AssetBundle.Items("iron_ore", 1), "crafting", T0).Error);
        Assert.Equal(LedgerError.UnknownInstance, wallet.Debit("d3", AssetBundle.Instance("sword-1"), "crafting", T0).Error);
        Assert.DoesNotContain(wallet.ToState().Stacks, s => s.Key == "iron_ore");
    }

    [Fact]
    public void A_held_instance_cannot_be_debited()
    {
        var wallet = Funded();
        Assert.True(wallet.Hold("h", "hold-1", AssetBundle.Instance("sword-1"), "trade", T0).Ok);

        var outcome = wallet.Debit("d", AssetBundle.Instance("sword-1"), "sell", T0);

        Assert.Equal(LedgerError.InsufficientItems, outcome.Error);
        Assert.Contains("hold-1", outcome.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Credit_refuses_an_instance_the_wallet_already_owns_available_or_held()
    {
        var wallet = Funded();
        Assert.True(wallet.Hold("h", "hold-1", AssetBundle.Instance("shield-1"), "trade", T0).Ok);

        Assert.Equal(LedgerError.InstanceAlreadyOwned, wallet.Credit("c1", AssetBundle.Instance("sword-1"), "dupe", T0).Error);
        Assert.Equal(LedgerError.InstanceAlreadyOwned, wallet.Credit("c2", AssetBundle.Instance("shield-1"), "dupe", T0).Error);
    }

    [Fact]
    public void A_mixed_bundle_moves_all_or_nothing()
    {
        var wallet = Funded();
        var before = Assets(wallet);

        // GOLD and SILVER would pass; the missing ore refuses the whole debit.
        var debit = AssetBundle.Currency("GOLD", 10).WithCurrency("SILVER", 10).WithItems("iron_ore", 21).WithInstances("sword-1");
        Assert.Equal(LedgerError.InsufficientItems, wallet.Debit("d", debit, "mixed", T0).Error);
        StateAssert.Equal(before, Assets(wallet));

        // An instance already owned refuses the whole credit, currencies included.
        var credit = AssetBundle.Currency("GOLD", 10).WithInstances("axe-1", "sword-1");
        Assert.Equal(LedgerError.InstanceAlreadyOwned, wallet.Credit("c", credit, "mixed", T0).Error);
        StateAssert.Equal(before, Assets(wallet));

        // A hold over one asset too many reserves nothing.
        var hold = AssetBundle.Currency("GOLD", 10).WithInstances("sword-1", "bow-1");
        Assert.Equal(LedgerError.UnknownInstance, wallet.Hold("h", "hold-1", hold, "mixed", T0).Error);
        StateAssert.Equal(before, Assets(wallet));
        Assert.Empty(wallet.OpenHolds());
    }

    // ---------------------------------------------------------------- idempotency

    [Fact]
    public void The_same_key_and_command_replays_the_first_answer_and_changes_nothing()
    {
        var wallet = Funded();
        var first = wallet.Debit("buy-7", AssetBundle.Currency("GOLD", 30).WithItems("iron_ore", 2), "shop", T0);
        var state = wallet.ToState();

        var again = wallet.Debit("buy-7", AssetBundle.Items("iron_ore", 2).WithCurrency("GOLD", 30), "shop", T0.AddMinutes(5));

        Assert.Equal(first with { Replayed = true }, again);
        StateAssert.Equal(state, wallet.ToState());
        Assert.Equal(970, wallet.Available("GOLD"));
    }

    [Theory]
    [InlineData("amount")]
    [InlineData("asset")]
    [InlineData("reason")]
    [InlineData("operation")]
    public void The_same_key_with_a_different_command_is_a_conflict_and_changes_nothing(string change)
    {
        var wallet = Funded();
        Assert.True(wallet.Debit("k", AssetBundle.Currency("GOLD", 30), "shop", T0).Ok);
        var state = wallet.ToState();

        var outcome = change switch
        {
            "amount" => wallet.Debit("k", AssetBundle.Currency("GOLD", 31), "shop", T0),
            "asset" => wallet.Debit("k", AssetBundle.Currency("SILVER", 30), "shop", T0),
            "reason" => wallet.Debit("k", AssetBundle.Currency("GOLD", 30), "bank", T0),
            _ => wallet.Credit("k", AssetBundle.Currency("GOLD", 30), "shop", T0),
        };

        Assert.Equal(LedgerError.IdempotencyConflict, outcome.Error);
        Assert.False(outcome.Replayed);
        StateAssert.Equal(state, wallet.ToState());
    }

    [Fact]
    public void A_refusal_is_remembered_so_a_retry_gets_the_same_answer_until_a_new_key_is_used()
    {
        var wallet = Funded();
        var refused = wallet.Debit("buy-9", AssetBundle.Currency("GOLD", 5_000), "shop", T0);
        Assert.Equal(LedgerError.InsufficientFunds, refused.Error);
        Assert.True(wallet.Credit("topup", AssetBundle.Currency("GOLD", 10_000), "purchase", T0).Ok);

        var retried = wallet.Debit("buy-9", AssetBundle.Currency("GOLD", 5_000), "shop", T0);

        Assert.Equal(refused with { Replayed = true }, retried);
        Assert.Equal(11_000, wallet.Available("GOLD"));
        Assert.True(wallet.Debit("buy-10", AssetBundle.Currency("GOLD", 5_000), "shop", T0).Ok);
    }

    [Fact]
    public void Recall_returns_the_first_answer_of_a_key()
    {
        var wallet = Funded();
        wallet.Debit("d", AssetBundle.Currency("GOLD", 1), "x", T0);
        wallet.Debit("r", AssetBundle.Currency("GOLD", 1_000_000), "x", T0);

        Assert.Equal(new LedgerOutcome(LedgerError.None, null, false, 6), wallet.Recall("d"));
        Assert.Equal(LedgerError.InsufficientFunds, wallet.Recall("r")!.Error);
        Assert.Null(wallet.Recall("never"));
    }

    [Fact]
    public void A_fenced_key_is_never_applied_afterwards()
    {
        var wallet = Funded();
        Assert.True(wallet.Credit("applied", AssetBundle.Currency("GOLD", 1), "x", T0).Ok);

        Assert.True(wallet.FenceKey("applied", T0));
        Assert.False(wallet.FenceKey("lost-in-flight", T0));
        Assert.False(wallet.FenceKey("lost-in-flight", T0));

        var late = wallet.Credit("lost-in-flight", AssetBundle.Currency("GOLD", 1), "x", T0);
        Assert.Equal(LedgerError.IdempotencyConflict, late.Error);
        Assert.Equal(1_001, wallet.Available("GOLD"));
        Assert.Equal(LedgerError.IdempotencyConflict, wallet.Recall("lost-in-flight")!.Error);

        wallet.Debit("refused", AssetBundle.Currency("GOLD", 1_000_000), "x", T0);
        Assert.False(wallet.FenceKey("refused", T0));
    }

    // ---------------------------------------------------------------- holds

    [Fact]
    public void A_hold_reserves_then_partial_captures_leave_and_release_returns_the_rest()
    {
        var wallet = Funded();
        var reserved = AssetBundle.Currency("GOLD", 500).WithItems("iron_ore", 10).WithInstances("sword-1");
        Assert.True(wallet.Hold("h", "order-1", reserved, "buy order", T0).Ok);
        Assert.Equal((500L, 500L), (wallet.Available("GOLD"), wallet.Held("GOLD")));
        Assert.Equal((10L, 10L), (wallet.AvailableItems("iron_ore"), wallet.HeldItems("iron_ore")));
        Assert.True(wallet.OwnsInstance("sword-1", out var held) && held);

        Assert.True(wallet.Capture("c1", "order-1", AssetBundle.Currency("GOLD", 200).WithItems("iron_ore", 4), T0).Ok);
        Assert.True(wallet.Capture("c2", "order-1", AssetBundle.Currency("GOLD", 100), T0).Ok);
        Assert.Equal((500L, 200L), (wallet.Available("GOLD"), wallet.Held("GOLD")));
        var hold = Assert.Single(wallet.OpenHolds());
        Assert.Equal(new HoldView("order-1", AssetBundle.Currency("GOLD", 200).WithItems("iron_ore", 6).WithInstances("sword-1"), "buy order", T0), hold);

        Assert.True(wallet.Release("r", "order-1", T0.AddSeconds(1)).Ok);

        Assert.Equal((700L, 0L), (wallet.Available("GOLD"), wallet.Held("GOLD")));
        Assert.Equal((16L, 0L), (wallet.AvailableItems("iron_ore"), wallet.HeldItems("iron_ore")));
        Assert.True(wallet.OwnsInstance("sword-1", out held) && !held);
        Assert.Empty(wallet.OpenHolds());
        var release = wallet.Entries(0, 100).Where(e => e.Key == "r").ToList();
        Assert.Equal(["currency:GOLD", "stack:iron_ore", "instance:sword-1"], release.Select(e => e.Asset));
        Assert.All(release, e => Assert.Equal(("order-1", "buy order", LedgerEntryKind.Release), (e.HoldId, e.Reason, e.Kind)));
        Assert.Equal((200L, -200L, 700L, 0L), (release[0].DeltaAvailable, release[0].DeltaHeld, release[0].AvailableAfter, release[0].HeldAfter));
    }

    [Fact]
    public void Capturing_more_than_the_hold_has_left_is_refused()
    {
        var wallet = Funded();
        Assert.True(wallet.Hold("h", "order-1", AssetBundle.Currency("GOLD", 100).WithInstances("sword-1"), "o", T0).Ok);
        var before = Assets(wallet);

        Assert.Equal(LedgerError.HoldExceeded, wallet.Capture("c1", "order-1", AssetBundle.Currency("GOLD", 101), T0).Error);
        Assert.Equal(LedgerError.HoldExceeded, wallet.Capture("c2", "order-1", AssetBundle.Currency("SILVER", 1), T0).Error);
        Assert.Equal(LedgerError.HoldExceeded, wallet.Capture("c3", "order-1", AssetBundle.Instance("shield-1"), T0).Error);
        Assert.Equal(LedgerError.HoldExceeded, wallet.Capture("c4", "order-1", AssetBundle.Currency("GOLD", 50).WithItems("iron_ore", 1), T0).Error);
        StateAssert.Equal(before, Assets(wallet));
    }

    [Fact]
    public void A_hold_emptied_by_captures_closes_itself()
    {
        var wallet = Funded();
        Assert.True(wallet.Hold("h", "order-1", AssetBundle.Currency("GOLD", 100).WithInstances("sword-1"), "o", T0).Ok);

        Assert.True(wallet.Capture("c1", "order-1", AssetBundle.Currency("GOLD", 100), T0).Ok);
        Assert.Single(wallet.OpenHolds());
        Assert.True(wallet.Capture("c2", "order-1", AssetBundle.Instance("sword-1"), T0).Ok);

        Assert.Empty(wallet.OpenHolds());
        Assert.False(wallet.OwnsInstance("sword-1", out _));
        Assert.Equal(LedgerError.HoldClosed, wallet.Release("r", "order-1", T0).Error);
        Assert.Equal(900, wallet.Available("GOLD"));
    }

    [Fact]
    public void Closed_unknown_and_duplicate_holds_are_refused()
    {
        var wallet = Funded();
        Assert.True(wallet.Hold("h1", "order-1", AssetBundle.Currency("GOLD", 100), "o", T0).Ok);

        Assert.Equal(LedgerError.DuplicateHold, wallet.Hold("h2", "order-1", AssetBundle.Currency("GOLD", 1), "o", T0).Error);
        Assert.True(wallet.Release("r1", "order-1", T0).Ok);
        Assert.Equal(LedgerError.HoldClosed, wallet.Release("r2", "order-1", T0).Error);
        Assert.Equal(LedgerError.HoldClosed, wallet.Capture("c1", "order-1", AssetBundle.Currency("GOLD", 1), T0).Error);
        Assert.Equal(LedgerError.DuplicateHold, wallet.Hold("h3", "order-1", AssetBundle.Currency("GOLD", 1), "o", T0).Error);
        Assert.Equal(LedgerError.UnknownHold, wallet.Capture("c2", "order-9", AssetBundle.Currency("GOLD", 1), T0).Error);
        Assert.Equal(LedgerError.UnknownHold, wallet.Release("r3", "order-9", T0).Error);
        Assert.Equal(1_000, wallet.Available("GOLD"));
    }

    [Fact]
    public void Holds_need_available_assets()
    {
        var wallet = Funded();
        Assert.Equal(LedgerError.InsufficientFunds, wallet.Hold("h1", "a", AssetBundle.Currency("GOLD", 1_001), "o", T0).Error);
        Assert.Equal(LedgerError.InsufficientItems, wallet.Hold("h2", "b", AssetBundle.Items("wood", 1), "o", T0).Error);
        Assert.Equal(LedgerError.UnknownInstance, wallet.Hold("h3", "c", AssetBundle.Instance("bow-1"), "o", T0).Error);
        Assert.True(wallet.Hold("h4", "d", AssetBundle.Instance("sword-1"), "o", T0).Ok);
        Assert.Equal(LedgerError.InsufficientItems, wallet.Hold("h5", "e", AssetBundle.Instance("sword-1"), "o", T0).Error);
    }

    [Fact]
    public void Balances_and_open_holds_list_everything_by_name()
    {
        var wallet = Funded();
        Assert.True(wallet.Hold("h1", "b-hold", AssetBundle.Currency("GOLD", 1_000).WithInstances("sword-1"), "sell", T0).Ok);
        Assert.True(wallet.Hold("h2", "a-hold", AssetBundle.Items("iron_ore", 5), "sell", T0.AddSeconds(1)).Ok);

        var balances = wallet.Balances();

        Assert.Equal([new CurrencyBalance("GOLD", 0, 1_000), new CurrencyBalance("SILVER", 50, 0)], balances.Currencies);
        Assert.Equal([new StackBalance("iron_ore", 15, 5)], balances.Stacks);
        Assert.Equal([new InstanceBalance("shield-1", false, null), new InstanceBalance("sword-1", true, "b-hold")], balances.Instances);
        Assert.Equal(["b-hold", "a-hold"], wallet.OpenHolds().Select(h => h.HoldId));
    }

    // ---------------------------------------------------------------- overflow and malformed commands

    [Fact]
    public void A_credit_past_long_MaxValue_is_an_overflow_and_changes_nothing()
    {
        var wallet = Wallet.Open("whale");
        Assert.True(wallet.Credit("c1", AssetBundle.Currency("GOLD", long.MaxValue - 10).WithItems("gem", long.MaxValue), "mint", T0).Ok);
        Assert.True(wallet.Hold("h", "hold-1", AssetBundle.Currency("GOLD", 100), "o", T0).Ok);
        var before = Assets(wallet);

        // Held currency counts: available + held + credit must fit.
        Assert.Equal(LedgerError.Overflow, wallet.Credit("c2", AssetBundle.Currency("GOLD", 11), "mint", T0).Error);
        Assert.Equal(LedgerError.Overflow, wallet.Credit("c3", AssetBundle.Currency("SILVER", 5).WithItems("gem", 1), "mint", T0).Error);
        Assert.Equal(LedgerError.Overflow, wallet.Credit("c4", AssetBundle.Currency("GOLD", long.MaxValue), "mint", T0).Error);
        StateAssert.Equal(before, Assets(wallet));

        Assert.True(wallet.Credit("c5", AssetBundle.Currency("GOLD", 10), "mint", T0).Ok);
        Assert.Equal(long.MaxValue, wallet.Available("GOLD") + wallet.Held("GOLD"));
        Assert.True(wallet.Release("r", "hold-1", T0).Ok);
        Assert.Equal(long.MaxValue, wallet.Available("GOLD"));
    }

    public static TheoryData<string, LedgerError> MalformedCommands => new()
    {
        { "key:empty", LedgerError.InvalidKey },
        { "key:space", LedgerError.InvalidKey },
        { "key:129", LedgerError.InvalidKey },
        { "key:unicode", LedgerError.InvalidKey },
        { "hold:empty", LedgerError.InvalidKey },
        { "hold:slash", LedgerError.InvalidKey },
        { "reason:long", LedgerError.InvalidKey },
        { "reason:control", LedgerError.InvalidKey },
        { "currency:lower", LedgerError.InvalidKey },
        { "currency:short", LedgerError.InvalidKey },
        { "currency:long", LedgerError.InvalidKey },
        { "currency:digit", LedgerError.InvalidKey },
        { "stack:upper", LedgerError.InvalidKey },
        { "stack:empty", LedgerError.InvalidKey },
        { "instance:space", LedgerError.InvalidKey },
        { "amount:zero", LedgerError.InvalidAmount },
        { "amount:negative", LedgerError.InvalidAmount },
        { "amount:min", LedgerError.InvalidAmount },
        { "count:zero", LedgerError.InvalidAmount },
        { "instance:twice", LedgerError.InvalidAmount },
        { "bundle:empty", LedgerError.InvalidAmount },
        { "bundle:null-list", LedgerError.InvalidAmount },
    };

    [Theory]
    [MemberData(nameof(MalformedCommands))]
    public void A_malformed_command_gets_a_typed_error_and_changes_nothing_not_even_the_keys(string what, LedgerError expected)
    {
        var wallet = Funded();
        Assert.True(wallet.Hold("h", "hold-1", AssetBundle.Currency("GOLD", 10), "o", T0).Ok);
        var before = wallet.ToState();
        var (key, hold, reason, bundle) = ("k", "hold-1", "r", AssetBundle.Currency("GOLD", 5));
        switch (what)
        {
            case "key:empty": key = ""; break;
            case "key:space": key = "a b"; break;
            case "key:129": key = new string('k', 129); break;
            case "key:unicode": key = "clé"; break;
            case "hold:empty": hold = ""; break;
            case "hold:slash": hold = "a/b"; break;
            case "reason:long": reason = new string('r', 257); break;
            case "reason:control": reason = "a\nb"; break;
            case "currency:lower": bundle = AssetBundle.Currency("gold", 5); break;
            case "currency:short": bundle = AssetBundle.Currency("GO", 5); break;
            case "currency:long": bundle = AssetBundle.Currency("GOLDGOLDG", 5); break;
            case "currency:digit": bundle = AssetBundle.Currency("G0LD", 5); break;
            case "stack:upper": bundle = AssetBundle.Items("Iron", 5); break;
            case "stack:empty": bundle = AssetBundle.Items("", 5); break;
            case "instance:space": bundle = AssetBundle.Instance("sword 1"); break;
            case "amount:zero": bundle = AssetBundle.Currency("GOLD", 0); break;
            case "amount:negative": bundle = AssetBundle.Currency("GOLD", -5); break;
            case "amount:min": bundle = AssetBundle.Currency("GOLD", long.MinValue); break;
            case "count:zero": bundle = AssetBundle.Currency("GOLD", 5).WithItems("iron_ore", 0); break;
            case "instance:twice": bundle = AssetBundle.Instance("sword-1", "sword-1"); break;
            case "bundle:empty": bundle = AssetBundle.Empty; break;
            case "bundle:null-list": bundle = new AssetBundle { Instances = null! }; break;
        }

        var outcomes = new List<LedgerOutcome>();
        if (!what.StartsWith("hold", StringComparison.Ordinal))
        {
            outcomes.Add(wallet.Credit(key, bundle, reason, T0));
            outcomes.Add(wallet.Debit(key, bundle, reason, T0));
        }
        outcomes.Add(wallet.Hold(key, hold == "hold-1" ? "hold-2" : hold, bundle, reason, T0));
        if (!what.StartsWith("reason", StringComparison.Ordinal))
        {
            outcomes.Add(wallet.Capture(key, hold, bundle, T0));
        }
        if (what.StartsWith("key", StringComparison.Ordinal) || what.StartsWith("hold", StringComparison.Ordinal))
        {
            outcomes.Add(wallet.Release(key, hold, T0));
        }

        Assert.All(outcomes, o => Assert.Equal((expected, false, 0L), (o.Error, o.Replayed, o.EntrySequence)));
        Assert.All(outcomes, o => Assert.False(string.IsNullOrEmpty(o.Message)));
        StateAssert.Equal(before, wallet.ToState());
    }

    [Fact]
    public void Open_refuses_a_malformed_player_id()
    {
        Assert.Throws<ArgumentException>(() => Wallet.Open(""));
        Assert.Throws<ArgumentException>(() => Wallet.Open("a:b"));
        Assert.Throws<ArgumentException>(() => Wallet.Open(new string('p', 65)));
    }

    // ---------------------------------------------------------------- entries and retention

    [Fact]
    public void Entries_page_forward_from_a_sequence()
    {
        var wallet = Funded();
        Assert.True(wallet.Credit("c", AssetBundle.Currency("GOLD", 1), "x", T0).Ok);

        Assert.Equal([1L, 2], wallet.Entries(0, 2).Select(e => e.Sequence));
        Assert.Equal([3L, 4], wallet.Entries(2, 2).Select(e => e.Sequence));
        Assert.Equal([5L, 6], wallet.Entries(4, 10).Select(e => e.Sequence));
        Assert.Empty(wallet.Entries(6, 10));
        Assert.Empty(wallet.Entries(60, 10));
        Assert.Empty(wallet.Entries(0, 0));
        Assert.Equal([1L], wallet.Entries(-5, 1).Select(e => e.Sequence));
    }

    [Fact]
    public void The_wallet_keeps_the_newest_5000_entries()
    {
        var wallet = Wallet.Open("grinder");
        for (var i = 1; i <= 6_000; i++)
        {
            Assert.True(wallet.Credit($"loot-{i}", AssetBundle.Currency("GOLD", 1), "loot", T0).Ok);
        }

        Assert.Equal(6_000, wallet.LastSequence);
        Assert.Equal(LedgerRetention.EntriesKept, wallet.ToState().Entries.Count);
        Assert.Equal([1_001L, 1_002], wallet.Entries(0, 2).Select(e => e.Sequence));
        Assert.Equal([5_999L, 6_000], wallet.Entries(5_998, 100).Select(e => e.Sequence));
        Assert.Equal(6_000, wallet.Available("GOLD"));
    }

    [Fact]
    public void Keys_are_kept_while_young_and_the_newest_10000_stay_after_7_days()
    {
        var wallet = Wallet.Open("grinder");
        wallet.Credit("loot-1", AssetBundle.Currency("GOLD", 1), "loot", T0);
        for (var i = 2; i <= 10_500; i++)
        {
            // Fencing remembers a key as any command does, for a fraction of the cost.
            wallet.FenceKey($"loot-{i}", T0);
        }
        Assert.Equal(10_500, wallet.ToState().Keys.Count);
        Assert.NotNull(wallet.Recall("loot-1"));

        wallet.Credit("later", AssetBundle.Currency("GOLD", 1), "loot", T0 + LedgerRetention.KeyAge + TimeSpan.FromSeconds(1));

        Assert.Equal(LedgerRetention.KeysKept, wallet.ToState().Keys.Count);
        Assert.Null(wallet.Recall("loot-501"));
        Assert.NotNull(wallet.Recall("loot-502"));
        Assert.NotNull(wallet.Recall("later"));
        Assert.Equal(LedgerError.IdempotencyConflict, wallet.Credit("loot-502", AssetBundle.Currency("GOLD", 1), "loot", T0).Error);
        Assert.True(wallet.Credit("loot-1", AssetBundle.Currency("GOLD", 1), "loot", T0).Ok);
    }

    [Fact]
    public void No_more_than_50000_keys_are_kept_however_young()
    {
        var wallet = Wallet.Open("bot");
        for (var i = 1; i <= LedgerRetention.KeysMax + 5; i++)
        {
            wallet.FenceKey($"k{i}", T0);
        }

        Assert.Equal(LedgerRetention.KeysMax, wallet.ToState().Keys.Count);
        Assert.Null(wallet.Recall("k5"));
        Assert.NotNull(wallet.Recall("k6"));
    }

    [Fact]
    public void Closed_hold_ids_are_forgotten_by_the_same_rule()
    {
        var wallet = Wallet.Open("trader");
        Assert.True(wallet.Credit("c", AssetBundle.Currency("GOLD", 1), "x", T0).Ok);
        for (var i = 1; i <= LedgerRetention.KeysKept + 1; i++)
        {
            Assert.True(wallet.Hold($"h{i}", $"hold-{i}", AssetBundle.Currency("GOLD", 1), "o", T0).Ok);
            Assert.True(wallet.Release($"r{i}", $"hold-{i}", T0).Ok);
        }
        Assert.Equal(LedgerError.HoldClosed, wallet.Capture("x1", "hold-1", AssetBundle.Currency("GOLD", 1), T0).Error);

        Assert.True(wallet.Credit("late", AssetBundle.Currency("GOLD", 1), "x", T0 + LedgerRetention.KeyAge).Ok);

        Assert.Equal(LedgerRetention.KeysKept, wallet.ToState().ClosedHolds.Count);
        Assert.Equal(LedgerError.UnknownHold, wallet.Capture("x2", "hold-1", AssetBundle.Currency("GOLD", 1), T0).Error);
        Assert.Equal(LedgerError.HoldClosed, wallet.Capture("x3", "hold-2", AssetBundle.Currency("GOLD", 1), T0).Error);
    }

    // ---------------------------------------------------------------- state

    [Fact]
    public void FromState_of_ToState_round_trips_exactly_and_behaves_the_same()
    {
        var wallet = Funded();
        wallet.Hold("h1", "order-1", AssetBundle.Currency("GOLD", 300).WithItems("iron_ore", 3).WithInstances("sword-1"), "buy", T0);
        wallet.Capture("c1", "order-1", AssetBundle.Currency("GOLD", 100), T0);
        wallet.Hold("h2", "order-2", AssetBundle.Currency("SILVER", 5), "sell", T0);
        wallet.Release("r2", "order-2", T0);
        wallet.Debit("d1", AssetBundle.Currency("GOLD", 1_000_000), "refused", T0);
        wallet.FenceKey("fenced", T0);

        var state = wallet.ToState();
        var restored = Wallet.FromState(state);

        StateAssert.Equal(state, restored.ToState());
        Assert.Equal(wallet.Balances(), restored.Balances(), new BalanceComparer());
        Assert.True(restored.Capture("c1", "order-1", AssetBundle.Currency("GOLD", 100), T0).Replayed);
        Assert.Equal(LedgerError.HoldClosed, restored.Release("r3", "order-2", T0).Error);
        Assert.True(restored.Credit("after", AssetBundle.Currency("GOLD", 1), "x", T0).Ok);
        Assert.Equal(wallet.LastSequence + 1, restored.LastSequence);
    }

    [Fact]
    public void ToState_is_a_copy_the_host_can_not_change_the_wallet_through()
    {
        var wallet = Funded();
        wallet.Hold("h", "order-1", AssetBundle.Currency("GOLD", 300), "buy", T0);
        var state = wallet.ToState();

        state.Currencies["GOLD"] = 1;
        state.Holds[0].Remaining.Currencies["GOLD"] = 1;

        Assert.Equal(700, wallet.Available("GOLD"));
        Assert.Equal(300, wallet.Held("GOLD"));
    }

    [Fact]
    public void FromState_refuses_a_state_that_breaks_an_invariant()
    {
        var state = Funded().ToState();
        state.Currencies["GOLD"] = -1;
        Assert.Throws<ArgumentException>(() => Wallet.FromState(state));

        var twice = Funded().ToState();
        twice.Holds.Add(new HoldState { HoldId = "h", Remaining = AssetBundle.Instance("sword-1"), Reason = "r", OpenedAt = 99 });
        Assert.Throws<ArgumentException>(() => Wallet.FromState(twice));
    }

    // ---------------------------------------------------------------- bundles

    [Fact]
    public void Bundles_compare_by_contents_in_any_order()
    {
        var a = AssetBundle.Currency("GOLD", 5).WithCurrency("SILVER", 2).WithInstances("x", "y");
        var b = AssetBundle.Instance("y", "x").WithCurrency("SILVER", 2).WithCurrency("GOLD", 5);

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b.WithCurrency("GOLD", 1));
        Assert.NotEqual(a, b.WithItems("ore", 1));
        Assert.Equal("{ GOLD 5, SILVER 2, #x, #y }", a.ToString());
        Assert.True(AssetBundle.Empty.IsEmpty);
        Assert.False(a.IsEmpty);
        Assert.Equal(AssetBundle.Currency("GOLD", 7), AssetBundle.Currency("GOLD", 3).WithCurrency("GOLD", 4));
    }

    private sealed class BalanceComparer : IEqualityComparer<BalanceView>
    {
        public bool Equals(BalanceView? x, BalanceView? y) => StateAssert.AreEqual(x, y);

        public int GetHashCode(BalanceView obj) => 0;
    }
}
