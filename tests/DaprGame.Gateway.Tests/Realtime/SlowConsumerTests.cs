using System.Net.WebSockets;
using DaprGame.Gateway.Realtime;

namespace DaprGame.Gateway.Tests.Realtime;

/// <summary>A client that stops reading is cut off with 4008; the others in the same channel keep getting everything.</summary>
public sealed class SlowConsumerTests
{
    [Fact]
    public async Task A_reader_that_never_reads_is_closed_with_4008_while_a_normal_reader_receives_every_event()
    {
        await using var rig = await GatewayRig.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:OutboundQueueFrames"] = "64",
            ["Gateway:CloseTimeoutSeconds"] = "120",
        });
        rig.Chat.AddChannel("room-busy", members: ["fast", "slow"]);
        var (fast, _) = await rig.ConnectStartedAsync("fast");
        await using var _f = fast;
        await using var slow = await TestSocket.ConnectAsync(rig.SocketUri, "test:slow:s1", receiveBufferBytes: 4096);
        await slow.ExpectAsync(Frames.Welcome);
        await slow.RequestAsync("ping", null);
        var slowConnection = rig.Connections.ConnectionsOf("slow").Single();

        // The fast reader drains concurrently; the slow one reads nothing from here on.
        var text = new string('x', 16 * 1024);
        var fastOffsets = new List<long>();
        long target = -1;
        var reading = Task.Run(async () =>
        {
            while (true)
            {
                var frame = await fast.ReceiveAsync("the next event for the fast reader");
                var offset = frame.GetProperty("data").GetProperty("offset").GetInt64();
                fastOffsets.Add(offset);
                var stopAt = Volatile.Read(ref target);
                if (stopAt > 0 && offset >= stopAt)
                {
                    return;
                }
            }
        }, TestContext.Current.CancellationToken);

        for (var i = 1; i <= 4000 && slowConnection.CloseCode == 0; i++)
        {
            await rig.Chat.PublishMessageAsync("room-busy", "fast", text);
        }
        Assert.Equal(CloseCodes.SlowConsumer, slowConnection.CloseCode);
        // One more event after the cut, so the fast reader's loop has a last offset to stop on.
        var last = await rig.Chat.PublishMessageAsync("room-busy", "fast", "after");
        Volatile.Write(ref target, last.Offset);
        await reading.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(1, (int)last.Offset).Select(i => (long)i), fastOffsets);

        // The slow client, once it reads again, finds its backlog cut short and the 4008 close.
        var backlog = await slow.ReadUntilClosedAsync();
        Assert.Equal((WebSocketCloseStatus)CloseCodes.SlowConsumer, slow.CloseStatus);
        Assert.True(backlog.Count < last.Offset, $"the slow reader got {backlog.Count} frames of {last.Offset}");
    }
}
