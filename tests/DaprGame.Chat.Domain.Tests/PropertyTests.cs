using CsCheck;
using DaprGame.Chat.Domain.Channels;
using DaprGame.Contracts.Chat;
using static DaprGame.Chat.Domain.Tests.ChannelKit;

namespace DaprGame.Chat.Domain.Tests;

/// <summary>Stream invariants over random command sequences.</summary>
public sealed class PropertyTests
{
    private static readonly string[] Players = ["owner", "alice", "bob", "carol"];

    /// <summary>A command: which, by whom, about whom, and a small number (client id, offset back from the end).</summary>
    private static readonly Gen<(int Op, int Actor, int Target, int N)> Command =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[0, 6]);

    private static void Apply(ChatChannel c, (int Op, int Actor, int Target, int N) cmd, Microsoft.Extensions.Time.Testing.FakeTimeProvider clock)
    {
        var actor = Players[cmd.Actor];
        var target = Players[cmd.Target];
        _ = cmd.Op switch
        {
            0 or 1 or 2 => (object)c.Post(actor, $"c{cmd.N}", $"text {cmd.N}"),
            3 => c.Join(actor),
            4 => c.Leave(actor),
            5 => c.Edit(actor, c.Offset - cmd.N, "edited"),
            6 => c.Delete(actor, c.Offset - cmd.N),
            7 => c.Kick(actor, target),
            8 => c.Ban(actor, target, ChannelKit.Start.AddSeconds(30), null),
            _ => c.Purge(actor, target),
        };
        clock.Advance(TimeSpan.FromSeconds(cmd.N));
    }

    [Fact]
    public void Offsets_strictly_increase_the_epoch_never_changes_and_history_pages_are_gap_free()
    {
        Command.List[1, 80].Sample(commands =>
        {
            var clock = Clock();
            var channel = Room(clock, Settings(window: 16));
            var epoch = channel.Epoch;
            var last = channel.Offset;
            foreach (var cmd in commands)
            {
                Apply(channel, cmd, clock);
                foreach (var e in channel.TakeChanges().Appended)
                {
                    if (e.Offset != last + 1 || e.Epoch != epoch || e.Id != $"room-test:{epoch}:{e.Offset}")
                    {
                        return false;
                    }
                    last = e.Offset;
                }
            }
            if (channel.Offset != last || channel.Epoch != epoch)
            {
                return false;
            }
            // Walk the history the way a reconnecting client does, from 0, three events at a time.
            channel.Join("pager");
            var seen = new List<long>();
            long after = 0;
            while (true)
            {
                var page = channel.History("pager", after, 3).GetValueOrThrow();
                if (page.Events.Count == 0)
                {
                    break;
                }
                seen.AddRange(page.Events.Select(e => e.Offset));
                after = page.Events[^1].Offset;
            }
            return seen.SequenceEqual(Enumerable.Range((int)channel.FirstAvailableOffset, (int)(channel.Offset - channel.FirstAvailableOffset + 1)).Select(i => (long)i));
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void Replaying_the_recorded_changes_into_a_store_restores_the_same_channel()
    {
        Command.List[1, 60].Sample(commands =>
        {
            var clock = Clock();
            var settings = Settings(window: 10);
            var channel = Room(clock, settings);
            var store = new Dictionary<long, ChannelEvent>();
            foreach (var e in channel.Window)
            {
                store[e.Offset] = e;
            }
            var members = channel.Members.ToDictionary();
            foreach (var cmd in commands)
            {
                Apply(channel, cmd, clock);
                var changes = channel.TakeChanges();
                // What the actor does with a change set: write appended and rewritten events, delete evicted ones.
                foreach (var offset in changes.Appended.Select(e => e.Offset).Concat(changes.Rewritten).Except(changes.Evicted))
                {
                    store[offset] = channel.Window.Single(e => e.Offset == offset);
                }
                foreach (var offset in changes.Evicted)
                {
                    store.Remove(offset);
                }
                foreach (var (player, role) in changes.Members)
                {
                    if (role is { } r)
                    {
                        members[player] = r;
                    }
                    else
                    {
                        members.Remove(player);
                    }
                }
            }
            var restored = ChatChannel.Restore(
                new ChannelSnapshot(channel.Meta, members, [.. store.Values], channel.Sanctions, channel.Invitations, channel.Reports), settings, clock);
            return Fingerprint(restored) == Fingerprint(channel) && store.Count <= settings.HistoryWindow;
        }, iter: 300, threads: 1);
    }
}
