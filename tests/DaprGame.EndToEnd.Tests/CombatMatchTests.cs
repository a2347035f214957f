using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using DaprGame.Combat.Domain;
using DaprGame.Combat.Matches;
using DaprGame.Contracts;
using DaprGame.Contracts.Combat;
using DaprGame.Contracts.Trading;
using DaprGame.Hosting;
using DaprGame.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprGame.EndToEnd.Tests;

/// <summary>
/// A whole match through the real path: guests sign in at the gateway, create and join a match there (ticket), connect
/// their match sockets straight to combat, and play a 2-minute, 30 Hz match as bots that see the game only through
/// their snapshots. Combat publishes the result; its kills drop loot that trading credits to the killers' wallets.
/// It runs alone in its assembly: a tick is wall-clock work, and the other end-to-end tests (the bank test's replica
/// kills) would take the two cores from under it.
/// </summary>
[Collection(nameof(CombatMatchTests))]
[CollectionDefinition(nameof(CombatMatchTests), DisableParallelization = true)]
public sealed class CombatMatchTests
{
    private const int TickRate = 30;
    private const int Ticks = TickRate * 120;
    private const int Players = 4;
    private const string ObserverAppId = "combat-observer";

    [Fact]
    public async Task Bots_play_a_two_minute_match_at_30_Hz_through_gateway_tickets_without_overruns_and_the_result_and_loot_follow()
    {
        var ct = TestContext.Current.CancellationToken;
        var observed = new ConcurrentQueue<(string Type, JsonElement Data)>();
        var matchEnded = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var ticks = new TickRecorder();
        await using var cluster = await LocalCluster.StartAsync(ClusterProfile.Local,
        [
            new ClusterApp(AppIds.Combat, (args, configure) => DaprGame.Combat.CombatApp.Build(args, configure)),
            new ClusterApp(AppIds.Trading, (args, configure) => DaprGame.Trading.TradingApp.Build(args, configure)),
            new ClusterApp(AppIds.Gateway, (args, configure) => DaprGame.Gateway.GatewayApp.Build(args, configure), 1,
                b => b.Configuration["Auth:Pbkdf2Iterations"] = "1000"),
            new ClusterApp(ObserverAppId, (args, configure) => Observer(args, configure, observed, matchEnded)),
        ]);
        using var http = new HttpClient { BaseAddress = cluster.Node(AppIds.Gateway).AppAddress };

        var tokens = new List<(string Token, string PlayerId)>();
        for (var i = 0; i < Players; i++)
        {
            tokens.Add(await GuestAsync(http, $"combat-bot-device-{i:00}", ct));
        }
        var create = new CreateMatch("e2e-duel", "deathmatch", "arena", TickRate, Seed: 4242, MaxPlayers: Players, DurationTicks: Ticks, Bots: 6);
        var created = await SendAsync(http, tokens[0].Token, HttpMethod.Post, "/v1/combat/matches", create, ct);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync(ct));

        var bots = new List<Bot>();
        foreach (var (token, _) in tokens)
        {
            using var joined = await SendAsync(http, token, HttpMethod.Post, "/v1/combat/matches/e2e-duel/join", null, ct);
            Assert.True(joined.IsSuccessStatusCode, await joined.Content.ReadAsStringAsync(ct));
            var seat = (await joined.Content.ReadFromJsonAsync<JoinTicket>(ServiceDefaults.JsonOptions, ct))!;
            bots.Add(await Bot.ConnectAsync(seat, ct));
        }
        using (var started = await SendAsync(http, tokens[0].Token, HttpMethod.Post, "/v1/combat/matches/e2e-duel/start", null, ct))
        {
            Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync(ct));
        }

        // The match ends by itself after its 3,600 ticks; each bot plays until its end frame arrives.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromMinutes(4));
        var results = await Task.WhenAll(bots.Select(b => b.PlayAsync(limit.Token)));

        foreach (var (bot, end) in bots.Zip(results))
        {
            Assert.Equal("duration", end.GetProperty("reason").GetString());
            Assert.True(bot.Snapshots > Ticks * 9 / 10, $"a bot saw {bot.Snapshots} snapshots of {Ticks} ticks");
            Assert.True(bot.InputsSent > Ticks * 9 / 10, $"a bot sent {bot.InputsSent} inputs");
            Assert.True(bot.LastProcessed > 0, "snapshots carry the last processed input for reconciliation");
        }
        // The budget is 33 ms a tick; the work is a fraction of a millisecond. What overruns is the machine (another test
        // assembly, a GC of this process that hosts every app): the p99 must stay far inside the budget, and an overrun
        // is tolerated only as the rare stall (under 0.5 % of ticks) — bench `combat` measures the quiet-machine capacity.
        TestContext.Current.SendDiagnosticMessage($"ticks {ticks.Count}, p50 {ticks.Percentile(0.50):0.000} ms, p99 {ticks.Percentile(0.99):0.000} ms, overruns {ticks.Overruns}");
        Assert.True(ticks.Count >= Ticks, $"{ticks.Count} ticks measured");
        Assert.True(ticks.Percentile(0.99) < 1000.0 / TickRate, $"tick p99 {ticks.Percentile(0.99):0.000} ms against a {1000.0 / TickRate:0.0} ms budget");
        Assert.True(ticks.Overruns <= Ticks / 200, $"{ticks.Overruns} overruns in {Ticks} ticks");

        // The result event, as published: the final standings of all four players.
        var ended = await matchEnded.Task.WaitAsync(limit.Token);
        Assert.Equal("e2e-duel", ended.GetProperty("matchId").GetString());
        Assert.Equal(Ticks, ended.GetProperty("ticks").GetInt32());
        var standings = ended.GetProperty("players").EnumerateArray().ToList();
        Assert.Equal(Players, standings.Count);
        var kills = standings.Sum(p => p.GetProperty("kills").GetInt32());
        Assert.True(kills > 0, "bots that aim and fire for two minutes kill something");

        // Each drop reaches trading once: the killers' wallets hold exactly the items the loot events named.
        var drops = observed.Where(e => e.Type == CombatLootDropped.EventType).Select(e => e.Data).ToList();
        Assert.NotEmpty(drops);
        foreach (var (token, player) in tokens)
        {
            var expected = drops.Where(d => d.GetProperty("playerId").GetString() == player)
                .GroupBy(d => d.GetProperty("item").GetString()!).ToDictionary(g => g.Key, g => g.Sum(d => (long)d.GetProperty("quantity").GetInt32()));
            var wallet = await WalletWhenAsync(http, token, w => expected.All(e => w.Stacks.Any(s => s.ItemType == e.Key && s.Available == e.Value)), limit.Token);
            Assert.Equal(expected.Values.Sum(), wallet.Stacks.Sum(s => s.Available));
        }
    }

    private static WebApplication Observer(string[] args, Action<WebApplicationBuilder> configure, ConcurrentQueue<(string, JsonElement)> observed,
        TaskCompletionSource<JsonElement> matchEnded)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure(builder);
        var app = builder.Build();
        app.MapGet("/dapr/subscribe", () => Results.Json(new object[] { new { pubsubname = Components.PubSub, topic = Topics.Combat, route = "/combat" } }));
        app.MapPost("/combat", async (HttpRequest request) =>
        {
            using var json = await JsonDocument.ParseAsync(request.Body);
            var type = json.RootElement.GetProperty("type").GetString()!;
            var data = json.RootElement.GetProperty("data").Clone();
            observed.Enqueue((type, data));
            if (type == CombatMatchEnded.EventType)
            {
                matchEnded.TrySetResult(data);
            }
            return Results.Ok();
        });
        return app;
    }

    private static async Task<WalletView> WalletWhenAsync(HttpClient http, string token, Func<WalletView, bool> done, CancellationToken ct)
    {
        while (true)
        {
            using var response = await SendAsync(http, token, HttpMethod.Get, "/v1/trading/wallet", null, ct);
            var wallet = (await response.Content.ReadFromJsonAsync<WalletView>(ServiceDefaults.JsonOptions, ct))!;
            if (done(wallet))
            {
                return wallet;
            }
            await Task.Yield();   // each poll is a real request; the grants arrive through pub/sub, bounded by ct
        }
    }

    private static async Task<(string Token, string PlayerId)> GuestAsync(HttpClient http, string device, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("/v1/auth/guest", new { deviceId = device }, ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        return (body.GetProperty("accessToken").GetString()!, body.GetProperty("playerId").GetString()!);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string token, HttpMethod method, string route, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, route);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: ServiceDefaults.JsonOptions);
        }
        return await http.SendAsync(request, ct);
    }

    /// <summary>The combat loop's own measurements, read in-process: ticks and overruns.</summary>
    private sealed class TickRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<double> _durations = new();
        private long _overruns;

        public TickRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name is "daprgame.combat.tick.duration" or "daprgame.combat.tick.overruns")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => _durations.Enqueue(value));
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _overruns, value));
            _listener.Start();
        }

        public long Count => _durations.Count;

        public double Percentile(double p)
        {
            var sorted = _durations.Order().ToArray();
            return sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
        }

        public long Overruns => Interlocked.Read(ref _overruns);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>
    /// A bot player: applies every snapshot to its view, acks it, and answers with one input — walk towards the nearest
    /// other fighter it can see and fire at it when the rifle is ready. It knows only what its snapshots told it.
    /// </summary>
    private sealed class Bot(ClientWebSocket socket, JoinTicket seat)
    {
        private readonly SnapshotView _view = new();
        private uint _sequence;
        private int _lastShot = -1_000;

        public int Snapshots { get; private set; }

        public int InputsSent { get; private set; }

        public uint LastProcessed { get; private set; }

        public static async Task<Bot> ConnectAsync(JoinTicket seat, CancellationToken ct)
        {
            var socket = new ClientWebSocket();
            var query = $"match={Uri.EscapeDataString(seat.MatchId)}&ticket={Uri.EscapeDataString(seat.Ticket)}";
            await socket.ConnectAsync(new UriBuilder(seat.Address) { Query = query }.Uri, ct);
            return new Bot(socket, seat);
        }

        public async Task<JsonElement> PlayAsync(CancellationToken ct)
        {
            var buffer = new byte[256 * 1024];
            using (socket)
            {
                while (true)
                {
                    var length = 0;
                    WebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), ct);
                        length += result.Count;
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        throw new InvalidOperationException($"the match socket closed before the end: {socket.CloseStatus} {socket.CloseStatusDescription}");
                    }
                    switch (buffer[0])
                    {
                        case MatchFrameTypes.Snapshot:
                            await OnSnapshotAsync(buffer.AsSpan(0, length).ToArray(), ct);
                            break;
                        case MatchFrameTypes.End:
                            return JsonDocument.Parse(buffer.AsMemory(1, length - 1)).RootElement.Clone();
                    }
                }
            }
        }

        private async Task OnSnapshotAsync(byte[] frame, CancellationToken ct)
        {
            var tick = BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(1));
            LastProcessed = BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(9));
            _view.Apply(frame.AsSpan(13));
            Snapshots++;
            await SendAsync(ClientFrames.Ack(tick), ct);

            short moveX = 0, moveY = 0, aimX = 1, aimY = 0;
            var buttons = InputButtons.None;
            if (_view.Entities.TryGetValue(seat.Entity, out var me)
                && _view.Entities.Values.Where(e => e.Id != me.Id && e.Kind is EntityKind.Player or EntityKind.Bot && e.Health > 0)
                    .OrderBy(e => (long)(e.X - me.X) * (e.X - me.X) + (long)(e.Y - me.Y) * (e.Y - me.Y)).FirstOrDefault() is { Id: not 0 } target)
            {
                (aimX, aimY) = Scale(target.X - me.X, target.Y - me.Y);
                (moveX, moveY) = (aimX, aimY);
                if (tick - _lastShot >= TickRate / 4 + 1 && (aimX != 0 || aimY != 0))
                {
                    buttons = InputButtons.Fire;
                    _lastShot = tick;
                }
            }
            await SendAsync(ClientFrames.Input(new PlayerInput
            {
                Sequence = ++_sequence, Tick = tick + 1, ViewTick = tick, Entity = seat.Entity, MoveX = moveX, MoveY = moveY, AimX = aimX, AimY = aimY,
                Buttons = buttons,
            }), ct);
            InputsSent++;
        }

        private static (short, short) Scale(int dx, int dy)
        {
            var length = Math.Max(Math.Abs(dx), Math.Abs(dy));
            return length == 0 ? ((short)0, (short)0) : ((short)(dx * 1000L / length * 7 / 10), (short)(dy * 1000L / length * 7 / 10));
        }

        private Task SendAsync(byte[] frame, CancellationToken ct) => socket.SendAsync(frame, WebSocketMessageType.Binary, true, ct);
    }
}
