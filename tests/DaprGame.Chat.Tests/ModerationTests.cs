using System.Net;
using DaprGame.Contracts.Chat;

namespace DaprGame.Chat.Tests;

/// <summary>Moderation through the API: effects on the channel and the audit records on the moderation topic.</summary>
public sealed class ModerationTests
{
    private static async Task<ChatRig> ModeratedRoomAsync(Dictionary<string, string?>? settings = null)
    {
        var rig = await ChatRig.StartAsync(settings);
        await rig.OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Channels, "owner", new CreateChannel(ChannelKind.Room, "guild"));
        foreach (var p in new[] { "mod", "alice", "bob" })
        {
            await rig.JoinAsync("room-guild", p);
        }
        await rig.OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Role("room-guild"), "owner", new RoleChange("mod", ChannelRole.Moderator));
        Assert.Equal("role_changed", (await rig.NextModerationAsync("role_changed record"))["data"]!["action"]!.GetValue<string>());
        return rig;
    }

    [Fact]
    public async Task Mute_with_expiry_blocks_posting_until_the_clock_passes_it_and_is_audited()
    {
        await using var rig = await ModeratedRoomAsync();

        await rig.OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Mute("room-guild"), "mod", new Sanction("alice", ChatRig.Start.AddMinutes(5), "spam"));
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Messages("room-guild"), "alice", new PostMessage("1", "hi"), HttpStatusCode.Forbidden, ChatErrorCodes.Muted);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Mute("room-guild"), "alice", new Sanction("bob", null, null), HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Mute("room-guild"), "mod", new Sanction("owner", null, null), HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);
        rig.Clock.Advance(TimeSpan.FromMinutes(5));
        await rig.PostAsync("room-guild", "alice", "1", "hi");

        var audit = await rig.NextModerationAsync("muted record");
        Assert.Equal("chat.moderation.muted.v1", audit["type"]!.GetValue<string>());
        var data = audit["data"]!;
        Assert.Equal(("muted", "mod", "alice", "spam"), (data["action"]!.GetValue<string>(), data["actorId"]!.GetValue<string>(), data["targetPlayerId"]!.GetValue<string>(), data["reason"]!.GetValue<string>()));
        Assert.Equal(ChatRig.Start.AddMinutes(5), data["until"]!.GetValue<DateTimeOffset>());
        Assert.Equal(audit["id"]!.GetValue<string>(), data["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ban_removes_the_member_refuses_rejoining_and_unban_lets_them_back()
    {
        await using var rig = await ModeratedRoomAsync();

        await rig.OkAsync<ChannelInfo>(HttpMethod.Post, ChatRoutes.Ban("room-guild"), "mod", new Sanction("bob", null, "abuse"));
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Join("room-guild"), "bob", null, HttpStatusCode.Forbidden, ChatErrorCodes.Banned);
        await rig.ProblemAsync(HttpMethod.Get, ChatRoutes.Messages("room-guild"), "bob", null, HttpStatusCode.Forbidden, ChatErrorCodes.NotMember);
        var bobsChannels = await rig.OkAsync<List<ChannelInfo>>(HttpMethod.Get, ChatRoutes.MyChannels, "bob");
        await rig.OkAsync<ChannelInfo>(HttpMethod.Delete, ChatRoutes.Ban("room-guild") + "/bob", "mod");
        await rig.JoinAsync("room-guild", "bob");

        Assert.DoesNotContain(bobsChannels, c => c.ChannelId == "room-guild");
        var page = await rig.HistoryAsync("room-guild", "alice");
        var left = page.Events.OfType<ChatMemberLeft>().Single();
        Assert.Equal(("bob", "banned", "mod"), (left.PlayerId, left.Reason, left.By!));
        Assert.Equal("banned", (await rig.NextModerationAsync("banned record"))["data"]!["action"]!.GetValue<string>());
        Assert.Equal("unbanned", (await rig.NextModerationAsync("unbanned record"))["data"]!["action"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_edit_purge_and_reports()
    {
        await using var rig = await ModeratedRoomAsync();
        var a1 = await rig.PostAsync("room-guild", "alice", "a1", "first");
        var a2 = await rig.PostAsync("room-guild", "alice", "a2", "second");
        var b1 = await rig.PostAsync("room-guild", "bob", "b1", "bob's");

        await rig.ProblemAsync(HttpMethod.Put, ChatRoutes.Message("room-guild", a1.Offset), "bob", new EditMessage("hijack"), HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);
        await rig.ProblemAsync(HttpMethod.Delete, ChatRoutes.Message("room-guild", a1.Offset), "bob", null, HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);
        await rig.OkAsync<MessageAck>(HttpMethod.Delete, ChatRoutes.Message("room-guild", b1.Offset), "bob");
        var report = await rig.OkAsync<ReportEntry>(HttpMethod.Post, ChatRoutes.Reports("room-guild"), "bob", new Report(a2.Offset, "rude"));
        await rig.ProblemAsync(HttpMethod.Get, ChatRoutes.Reports("room-guild"), "bob", null, HttpStatusCode.Forbidden, ChatErrorCodes.Forbidden);
        var queue = await rig.OkAsync<List<ReportEntry>>(HttpMethod.Get, ChatRoutes.Reports("room-guild"), "mod");
        var purge = await rig.OkAsync<Dictionary<string, int>>(HttpMethod.Post, ChatRoutes.Purge("room-guild"), "mod", new MemberAction("alice"));
        await rig.ProblemAsync(HttpMethod.Delete, ChatRoutes.Message("room-guild", 999), "mod", null, HttpStatusCode.NotFound, ChatErrorCodes.NotFound);

        Assert.Equal(("bob", a2.Offset, "alice", "second"), (report.ReporterId, report.Offset, report.SenderId!, report.Text!));
        Assert.Equal([report], queue);
        Assert.Equal(2, purge["deleted"]);
        var page = await rig.HistoryAsync("room-guild", "bob");
        var deletions = page.Events.OfType<ChatMessageDeleted>().ToList();
        Assert.Equal([(b1.Offset, "own"), (a1.Offset, "purge"), (a2.Offset, "purge")], deletions.Select(d => (d.TargetOffset, d.Reason)));
        Assert.All(page.Events.OfType<ChatMessagePosted>().Where(p => p.SenderId != "owner"), p => Assert.Equal("", p.Text));
        Assert.Equal("reported", (await rig.NextModerationAsync("reported record"))["data"]!["action"]!.GetValue<string>());
        var purged = (await rig.NextModerationAsync("purged record"))["data"]!;
        Assert.Equal(("purged", "2"), (purged["action"]!.GetValue<string>(), purged["detail"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_content_filter_masks_or_rejects_as_configured()
    {
        await using (var masking = await ChatRig.StartAsync(new() { ["Chat:Moderation:Blocklist:0"] = "darn", ["Chat:Moderation:FilterMode"] = "mask" }))
        {
            await masking.JoinAsync("room-lobby", "alice");
            var ack = await masking.PostAsync("room-lobby", "alice", "1", "Darn this");

            Assert.True(ack.Masked);
            Assert.Equal("*** this", (await masking.HistoryAsync("room-lobby", "alice")).Events.OfType<ChatMessagePosted>().Single().Text);
            var filtered = await masking.NextModerationAsync("filtered record");
            Assert.Equal("chat.moderation.filtered.v1", filtered["type"]!.GetValue<string>());
        }
        await using var rejecting = await ChatRig.StartAsync(new() { ["Chat:Moderation:Blocklist:0"] = "darn", ["Chat:Moderation:FilterMode"] = "reject" });
        await rejecting.JoinAsync("room-lobby", "alice");
        await rejecting.ProblemAsync(HttpMethod.Post, ChatRoutes.Messages("room-lobby"), "alice", new PostMessage("1", "darn"), HttpStatusCode.BadRequest, ChatErrorCodes.ContentRejected);
        Assert.Empty((await rejecting.HistoryAsync("room-lobby", "alice")).Events.OfType<ChatMessagePosted>());
    }

    [Fact]
    public async Task Sending_faster_than_the_bucket_allows_is_rate_limited_until_time_passes()
    {
        await using var rig = await ChatRig.StartAsync(new() { ["Chat:RateLimit:Burst"] = "3", ["Chat:RateLimit:PerSecond"] = "1" });
        await rig.JoinAsync("room-lobby", "alice");

        for (var i = 0; i < 3; i++)
        {
            await rig.PostAsync("room-lobby", "alice", $"m{i}", "fast");
        }
        await rig.ProblemAsync(HttpMethod.Post, ChatRoutes.Messages("room-lobby"), "alice", new PostMessage("m3", "too fast"), HttpStatusCode.TooManyRequests, ChatErrorCodes.RateLimited);
        rig.Clock.Advance(TimeSpan.FromSeconds(1));
        await rig.PostAsync("room-lobby", "alice", "m3", "in time");
    }
}
