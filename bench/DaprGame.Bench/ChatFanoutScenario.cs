using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using DaprGame.Contracts;
using DaprGame.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DaprGame.Bench;

/// <summary>
/// <c>chat-fanout</c>: K players in one room, a few of them sending at a stepped-up rate, every message travelling
/// the full path — sender's socket → gateway → sidecar → chat's ChatRoom actor (state saved) → pub/sub → gateway
/// sidecar → gateway → K sockets. Per step: deliveries/s, p50/p99 send → receive, process CPU, lost deliveries. The
/// peer measured in the same run with the same load client is a bare Kestrel WebSocket broadcaster with no logic.
/// Reported: the highest delivery rate whose p99 stays ≤ 50 ms with nothing lost, for each K, and the ratio to the peer.
/// </summary>
internal static class ChatFanoutScenario
{
    private const double P99BoundMs = 50;
    private const int Senders = 4;
    private static readonly int[] Ks = [100, 1000, 5000];
    private static readonly string[] RateLimitClasses = ["Send", "Join", "Other"];
    private static readonly int[] DeliveryRates = [10_000, 25_000, 50_000, 100_000, 150_000, 200_000, 300_000];

    public static async Task<BenchReport> RunAsync(BenchOptions options)
    {
        var report = new BenchReport("chat-fanout", options);
        foreach (var k in Ks)
        {
            // --filter picks K ("k=1000") or one side ("full path", "peer").
            var subject = options.Includes($"k={k} full path") ? await MeasureAsync(report, options, k, "gateway+chat", ConnectBackendAsync) : double.NaN;
            var peer = options.Includes($"k={k} peer") ? await MeasureAsync(report, options, k, "bare kestrel", ConnectBroadcasterAsync) : double.NaN;
            if (double.IsNaN(subject) && double.IsNaN(peer))
            {
                continue;
            }
            report.Comparisons.Add(new BenchComparison($"K={k}: max deliveries/s with p99 ≤ {P99BoundMs} ms, full path", subject, "msg/s",
                k == 1000 ? "≥ 150000" : "", k == 1000 ? subject >= 150_000 : null));
            report.Comparisons.Add(new BenchComparison($"K={k}: same, bare Kestrel broadcaster (peer)", peer, "msg/s", "", null));
            if (peer > 0 && subject >= 0)
            {
                report.Comparisons.Add(new BenchComparison($"K={k}: full path / bare broadcaster", subject / peer, "ratio", "", null));
            }
        }
        report.Notes.Add("One process holds the servers and the load client; CPU is that process's, client included. The bare broadcaster " +
                         "runs with the same client, so the rate it reaches is a floor on what the client can absorb.");
        return report;
    }

    /// <summary>A connected room: the members' sockets, and how a sender's message is framed.</summary>
    private sealed record Room(IReadOnlyList<FanoutClient> Members, Func<long, long, byte[]> Frame, IAsyncDisposable Owner);

    private static async Task<double> MeasureAsync(BenchReport report, BenchOptions options, int k, string path,
        Func<int, FanoutHistogram, CancellationToken, Task<Room>> connect)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var histogram = new FanoutHistogram();
        Console.Error.WriteLine($"[{path}] K={k}: connecting…");
        var room = await connect(k, histogram, cts.Token);
        var receivers = room.Members.Select(m => m.Start()).ToArray();
        var best = 0.0;
        var over = 0;
        long sequence = 0;
        try
        {
            foreach (var rate in DeliveryRates)
            {
                var messagesPerSecond = Math.Max(1, rate / k);
                var runs = new List<(double Delivered, double P50, double P99, double Cpu, long Lost)>();
                for (var run = 0; run < options.Runs; run++)
                {
                    histogram.Reset();
                    var before = room.Members.Sum(m => Interlocked.Read(ref m.Received));
                    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                    var start = Stopwatch.GetTimestamp();
                    var sent = await SendAsync(room, messagesPerSecond, options.Duration, () => Interlocked.Increment(ref sequence), cts.Token);
                    var expected = sent * (long)room.Members.Count;
                    // Let in-flight deliveries land: until everything arrived or 2 s passed (lost otherwise).
                    var drainUntil = Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency;
                    while (room.Members.Sum(m => Interlocked.Read(ref m.Received)) - before < expected && Stopwatch.GetTimestamp() < drainUntil)
                    {
                        await Task.Delay(10, cts.Token);
                    }
                    var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / wall / Environment.ProcessorCount;
                    var delivered = room.Members.Sum(m => Interlocked.Read(ref m.Received)) - before;
                    runs.Add((delivered / options.Duration.TotalSeconds, histogram.PercentileMs(0.50), histogram.PercentileMs(0.99), cpu, Math.Max(0, expected - delivered)));
                }
                var med = Median(runs.Select(r => r.Delivered));
                var p50 = Median(runs.Select(r => r.P50));
                var p99 = Median(runs.Select(r => r.P99));
                var cpuMed = Median(runs.Select(r => r.Cpu));
                var lost = runs.Sum(r => r.Lost);
                report.Rows.Add(new BenchRow($"K={k} offered {messagesPerSecond * k}/s", path, $"{messagesPerSecond} msg/s",
                    med, p50, p99, double.NaN, 0, (int)Math.Min(int.MaxValue, lost), [.. runs.Select(r => Math.Round(r.Delivered))], [.. runs.Select(r => Math.Round(r.P99, 3))]));
                report.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{path} K={k} {messagesPerSecond} msg/s: CPU {cpuMed:P0} of {Environment.ProcessorCount} cores, lost {lost}"));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{path}] K={k} offered {messagesPerSecond * k}/s: delivered {med:0}/s p50 {p50:0.0} ms p99 {p99:0.0} ms cpu {cpuMed:P0} lost {lost}"));
                if (p99 <= P99BoundMs && lost == 0)
                {
                    best = Math.Max(best, med);
                    over = 0;
                }
                else if (++over >= 2)
                {
                    break;
                }
            }
        }
        finally
        {
            foreach (var m in room.Members)
            {
                m.Socket.Abort();
            }
            await Task.WhenAll(receivers);
            await room.Owner.DisposeAsync();
        }
        return best;
    }

    /// <summary>Open loop: the senders' messages leave on a fixed schedule whether or not earlier ones were answered.</summary>
    private static async Task<long> SendAsync(Room room, int messagesPerSecond, TimeSpan duration, Func<long> next, CancellationToken ct)
    {
        var total = (long)(messagesPerSecond * duration.TotalSeconds);
        var interval = Stopwatch.Frequency / (double)messagesPerSecond;
        var start = Stopwatch.GetTimestamp();
        var pending = new List<Task>();
        for (long i = 0; i < total; i++)
        {
            var scheduled = start + (long)(i * interval);
            var wait = scheduled - Stopwatch.GetTimestamp();
            if (wait > Stopwatch.Frequency / 1000)
            {
                await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency), ct);
            }
            var sender = room.Members[(int)(i % Senders)];
            pending.Add(sender.SendAsync(room.Frame(next(), Stopwatch.GetTimestamp()), ct));
            if (pending.Count > 256)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);
        return total;
    }

    private static async Task<Room> ConnectBackendAsync(int k, FanoutHistogram histogram, CancellationToken ct)
    {
        var cluster = await LocalCluster.StartAsync(ClusterProfile.Local,
        [
            new ClusterApp(AppIds.Chat, (args, configure) => DaprGame.Chat.ChatApp.Build(args, configure), 1, b =>
            {
                b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
                b.Configuration["Chat:RateLimit:PerSecond"] = "100000";
                b.Configuration["Chat:RateLimit:Burst"] = "100000";
            }),
            new ClusterApp(AppIds.Gateway, (args, configure) => DaprGame.Gateway.GatewayApp.Build(args, configure), 1, b =>
            {
                b.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
                foreach (var op in RateLimitClasses)
                {
                    b.Configuration[$"Gateway:RateLimits:{op}:PerSecond"] = "100000";
                    b.Configuration[$"Gateway:RateLimits:{op}:Burst"] = "100000";
                }
                b.Configuration["Gateway:OutboundQueueFrames"] = "4096";
            }),
        ]);
        var gateway = cluster.Node(AppIds.Gateway).AppAddress;
        using var http = new HttpClient { BaseAddress = gateway };
        var members = new FanoutClient[k];
        string? channelId = null;
        string? owner = null;
        var tokens = new string[k];
        await Parallel.ForAsync(0, k, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
        {
            using var login = await http.PostAsJsonAsync("/v1/auth/guest", new { deviceId = $"bench-{k}-{i}" }, token);
            login.EnsureSuccessStatusCode();
            var token0 = (await login.Content.ReadFromJsonAsync<JsonElement>(token)).GetProperty("accessToken").GetString()!;
            tokens[i] = token0;
            if (i == 0)
            {
                owner = token0;
            }
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Port}/ws?access_token={Uri.EscapeDataString(token0)}"), token);
            members[i] = new FanoutClient(socket, histogram);
        });
        // The room is created with a plain request/reply; then every receive loop runs (each join is pushed to every
        // member already in, K²/2 frames in all, which sockets must keep reading or be closed as slow consumers) and
        // the joins are sent without waiting for replies; the room is ready when chat counts K members.
        channelId = (await RequestAsync(members[0], "channel.create", new { kind = "room", name = $"bench-{k}" }, ct)).GetProperty("channelId").GetString()!;
        foreach (var member in members)
        {
            _ = member.Start();
        }
        // Joins go over HTTP, a few at a time: each join is a turn of the one room actor plus a presence update and the
        // new member's catch-up, and a thousand of them queued at once outlast the actor call timeout. Each member's
        // open socket starts watching when its chat.member.joined event arrives.
        await Parallel.ForAsync(1, k, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (i, token) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/chat/channels/{channelId}/join");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens[i]);
            using var response = await http.SendAsync(request, token);
            response.EnsureSuccessStatusCode();
        });
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner);
        var polls = 0;
        while (true)
        {
            // The room's actor works through the queued joins one turn at a time; a view queued behind them may time out.
            using var response = await http.GetAsync($"/v1/chat/channels/{channelId}", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            var count = response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.GetProperty("channel").GetProperty("memberCount").GetInt32() : -1;
            if (count >= k)
            {
                break;
            }
            if (++polls % 25 == 0)
            {
                Console.Error.WriteLine($"[gateway+chat] K={k}: {(count >= 0 ? $"{count} members so far" : $"room view failed: {(int)response.StatusCode} {body}")}");
            }
            await Task.Delay(200, ct);
        }
        var frameChannel = channelId;
        return new Room(members, (seq, ts) => FanoutClient.Utf8(
            $"{{\"type\":\"message.send\",\"cid\":\"b{seq}\",\"data\":{{\"channelId\":\"{frameChannel}\",\"clientMessageId\":\"m{seq}\",\"text\":\"t={ts}\"}}}}"), cluster);
    }

    /// <summary>One request on a socket whose receive loop has not started: send, then read until the reply with our cid.</summary>
    private static async Task<JsonElement> RequestAsync(FanoutClient client, string type, object data, CancellationToken ct)
    {
        var cid = "setup";
        await client.Socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(new { type, cid, data }), WebSocketMessageType.Text, true, ct);
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var filled = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await client.Socket.ReceiveAsync(buffer.AsMemory(filled), ct);
                filled += result.Count;
            }
            while (!result.EndOfMessage);
            foreach (var line in System.Text.Encoding.UTF8.GetString(buffer, 0, filled).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var frame = JsonDocument.Parse(line).RootElement;
                if (frame.TryGetProperty("cid", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() == cid)
                {
                    return frame.GetProperty("type").GetString() == "error"
                        ? throw new InvalidOperationException($"{type} failed: {frame.GetProperty("data")}")
                        : frame.GetProperty("data").Clone();
                }
            }
        }
    }

    private static async Task<Room> ConnectBroadcasterAsync(int k, FanoutHistogram histogram, CancellationToken ct)
    {
        var broadcaster = await BareBroadcaster.StartAsync(ct);
        await Task.Yield();
        var members = new FanoutClient[k];
        await Parallel.ForAsync(0, k, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
        {
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{broadcaster.Port}/ws"), token);
            members[i] = new FanoutClient(socket, histogram);
        });
        await broadcaster.WaitForAsync(k, ct);
        return new Room(members, (seq, ts) => FanoutClient.Utf8($"{{\"type\":\"chat.message.posted.v1\",\"data\":{{\"offset\":{seq},\"text\":\"t={ts}\"}}}}"), broadcaster);
    }

    private static double Median(IEnumerable<double> xs)
    {
        var s = xs.Where(x => !double.IsNaN(x)).Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}

/// <summary>
/// The peer: a Kestrel WebSocket server with no logic — every text frame a client sends is written as-is to every
/// connected socket through a bounded per-socket queue and one writer loop per socket (the same shape a careful
/// gateway has, minus auth, parsing, ordering, the actor and the broker).
/// </summary>
internal sealed class BareBroadcaster : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<Channel<ReadOnlyMemory<byte>>> _queues = [];
    private readonly Lock _gate = new();

    private BareBroadcaster(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public static async Task<BareBroadcaster> StartAsync(CancellationToken ct)
    {
        var port = DaprGame.Sidecar.Hosting.SidecarHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var broadcaster = new BareBroadcaster(app, port);
        app.UseWebSockets();
        app.Map("/ws", broadcaster.HandleAsync);
        await app.StartAsync(ct);
        return broadcaster;
    }

    public async Task WaitForAsync(int count, CancellationToken ct)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_queues.Count >= count)
                {
                    return;
                }
            }
            await Task.Delay(10, ct);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var queue = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
        lock (_gate)
        {
            _queues.Add(queue);
        }
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var frame in queue.Reader.ReadAllAsync())
                {
                    await socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
                }
            }
            catch (WebSocketException)
            {
            }
        });
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                var frame = buffer.AsMemory(0, result.Count).ToArray();
                Channel<ReadOnlyMemory<byte>>[] targets;
                lock (_gate)
                {
                    targets = [.. _queues];
                }
                foreach (var target in targets)
                {
                    target.Writer.TryWrite(frame);
                }
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            lock (_gate)
            {
                _queues.Remove(queue);
            }
            queue.Writer.TryComplete();
            await writer;
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
