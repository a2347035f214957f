using DaprGame.Chat.Domain;
using DaprGame.Chat.Domain.Channels;
using DaprGame.Chat.Domain.Moderation;
using DaprGame.Contracts.Chat;
using Microsoft.Extensions.Time.Testing;

namespace DaprGame.Chat.Domain.Tests;

/// <summary>Channels on a fake clock, and assertions on refusals.</summary>
public static class ChannelKit
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider Clock() => new(Start);

    public static ChannelSettings Settings(int window = 1000, string[]? blocklist = null, FilterMode mode = FilterMode.Mask, int burst = 1000, double rate = 1000) => new()
    {
        HistoryWindow = window,
        RateBurst = burst,
        RatePerSecond = rate,
        Filter = new ContentFilter(blocklist ?? [], mode),
    };

    /// <summary>A room created by <paramref name="owner"/> (owner role) with the given members joined.</summary>
    public static ChatChannel Room(TimeProvider time, ChannelSettings? settings = null, string owner = "owner", params string[] members)
    {
        var channel = ChatChannel.New("room-test", settings ?? Settings(), time);
        channel.Create(ChannelKind.Room, "test", owner).GetValueOrThrow();
        foreach (var m in members)
        {
            channel.Join(m).GetValueOrThrow();
        }
        channel.TakeChanges();
        return channel;
    }

    /// <summary>A group owned by <paramref name="owner"/> with the given members invited and joined.</summary>
    public static ChatChannel Group(TimeProvider time, ChannelSettings? settings = null, string owner = "owner", params string[] members)
    {
        var channel = ChatChannel.New("group-abc123", settings ?? Settings(), time);
        channel.Create(ChannelKind.Group, "Raiders", owner).GetValueOrThrow();
        foreach (var m in members)
        {
            channel.Invite(owner, m).GetValueOrThrow();
            channel.Join(m).GetValueOrThrow();
        }
        channel.TakeChanges();
        return channel;
    }

    public static ChatError Refused<T>(ChatOutcome<T> outcome, ChatErrorKind kind)
    {
        Assert.False(outcome.IsSuccess, $"expected {kind}, but the command succeeded with {outcome.Value}");
        Assert.Equal(kind, outcome.Error!.Kind);
        return outcome.Error;
    }

    /// <summary>A snapshot of what a channel holds, to show a refused command changed nothing.</summary>
    public static string Fingerprint(ChatChannel c) =>
        string.Join('|',
            c.Exists ? $"{c.Meta}" : "none",
            string.Join(',', c.Members.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}")),
            string.Join(',', c.Window.Select(e => e.ToString())),
            string.Join(',', c.Sanctions.Mutes.Keys.Order()), string.Join(',', c.Sanctions.Bans.Keys.Order()),
            string.Join(',', c.Invitations.Keys.Order()), c.Reports.Count);
}
