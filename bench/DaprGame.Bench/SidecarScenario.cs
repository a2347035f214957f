using System.Diagnostics;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Dapr.Client;
using DaprGame.Sidecar;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DaprGame.Bench;

/// <summary>
/// Scenario <c>sidecar</c>: each operation through the local sidecar versus the same operation done directly, in the
/// same process and run: service invocation (app → sidecar → sidecar → app vs app → app), state get and save
/// (in-memory and Redis), and publish → delivery latency.
/// </summary>
internal static class SidecarScenario
{
    private static readonly string[] RedisCandidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("{\"data\":\"" + new string('x', 1000) + "\"}");

    public static async Task<BenchReport> RunAsync(BenchOptions options)
    {
        var report = new BenchReport("sidecar", options);
        var ct = CancellationToken.None;
        var folder = Directory.CreateTempSubdirectory("daprgame-bench-").FullName;
        var deliveries = Channel.CreateUnbounded<long>();

        await using var app = await StartTargetAppAsync(deliveries.Writer);
        await File.WriteAllTextAsync(Path.Combine(folder, "components.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: statestore }
            spec: { type: state.in-memory, version: v1, metadata: [] }
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: { name: pubsub }
            spec: { type: pubsub.in-memory, version: v1, metadata: [] }
            """, ct);

        await using var target = await SidecarHost.StartAsync(Options("bench-target", folder, app.Port));
        await using var caller = await SidecarHost.StartAsync(Options("bench-caller", folder, null));
        await target.Ready.WaitAsync(TimeSpan.FromSeconds(30), ct);
        await caller.Ready.WaitAsync(TimeSpan.FromSeconds(30), ct);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false });
        var direct = new Uri($"http://127.0.0.1:{app.Port}/echo");
        var viaSidecar = new Uri($"{caller.HttpEndpoint}/v1.0/invoke/bench-target/method/echo");
        Task Invoke(Uri uri, CancellationToken c) => PostAsync(http, uri, c);

        await CompareAsync(report, options, "invoke POST 1 KB", "direct", c => Invoke(direct, c), "sidecar", c => Invoke(viaSidecar, c),
            addedP99Target: 0.5, throughputRatioTarget: 0.40);

        // State: the same store instance used directly vs through the sidecar's gRPC API with the official client.
        using var targetClient = new DaprClientBuilder().UseGrpcEndpoint(target.GrpcEndpoint).UseHttpEndpoint(target.HttpEndpoint).Build();
        var memoryStore = new InMemoryStateStore(TimeProvider.System);
        await memoryStore.SetAsync(new StateSet("bench-target||k", Payload, null, Concurrency.LastWrite, null), ct);
        await targetClient.SaveByteStateAsync("statestore", "k", Payload, cancellationToken: ct);
        await CompareAsync(report, options, "state get (in-memory)", "direct", c => memoryStore.GetAsync("bench-target||k", c),
            "sidecar", c => targetClient.GetByteStateAsync("statestore", "k", cancellationToken: c));
        await CompareAsync(report, options, "state save (in-memory)", "direct", c => memoryStore.SetAsync(new StateSet("bench-target||k", Payload, null, Concurrency.LastWrite, null), c),
            "sidecar", c => targetClient.SaveByteStateAsync("statestore", "k", Payload, cancellationToken: c));

        await RedisStateAsync(report, options, folder, ct);

        if (!options.Includes("publish"))
        {
            Directory.Delete(folder, recursive: true);
            return report;
        }

        // Publish → delivery: time from the publish call to the subscriber's handler, through the in-memory broker.
        var publishLatency = new LatencyRecorder();
        var collector = Task.Run(async () =>
        {
            await foreach (var sent in deliveries.Reader.ReadAllAsync(ct))
            {
                publishLatency.Record(sent, Stopwatch.GetTimestamp());
            }
        }, ct);
        var publishRuns = new List<LoadResult>();
        for (var run = 0; run < options.Runs; run++)
        {
            var r = await Load.FixedRateAsync(c => targetClient.PublishEventAsync("pubsub", "bench", new Stamp(Stopwatch.GetTimestamp()), c), options.Rate, options.Duration, ct);
            publishRuns.Add(r);
        }
        report.Rows.Add(BenchReport.Median("publish call", "sidecar", $"{options.Rate}/s", publishRuns));
        await WaitForAsync(() => publishLatency.Count >= publishRuns.Sum(r => (int)(r.Throughput * options.Duration.TotalSeconds * 0.99)), TimeSpan.FromSeconds(30));
        var delivery = publishLatency.Summarize();
        report.Rows.Add(new BenchRow("publish → delivery (in-memory)", "sidecar", $"{options.Rate}/s", double.NaN, delivery.P50Ms, delivery.P99Ms, delivery.P999Ms, 0, 0, [], []));

        Directory.Delete(folder, recursive: true);
        return report;
    }

    private static async Task CompareAsync(BenchReport report, BenchOptions options, string operation,
        string baselineName, Func<CancellationToken, Task> baseline, string subjectName, Func<CancellationToken, Task> subject,
        double? addedP99Target = null, double? throughputRatioTarget = null)
    {
        var ct = CancellationToken.None;
        if (!options.Includes(operation))
        {
            return;
        }
        // Warm up both paths (JIT, connection pools) before measuring.
        await Load.SaturateAsync(baseline, 8, TimeSpan.FromSeconds(1), ct);
        await Load.SaturateAsync(subject, 8, TimeSpan.FromSeconds(1), ct);

        var fixedBase = new List<LoadResult>();
        var fixedSub = new List<LoadResult>();
        var satBase = new List<LoadResult>();
        var satSub = new List<LoadResult>();
        for (var run = 0; run < options.Runs; run++)
        {
            // Interleave baseline and subject so machine noise hits both alike.
            fixedBase.Add(await Load.FixedRateAsync(baseline, options.Rate, options.Duration, ct));
            fixedSub.Add(await Load.FixedRateAsync(subject, options.Rate, options.Duration, ct));
            satBase.Add(await Load.SaturateAsync(baseline, options.Workers, options.Duration, ct));
            satSub.Add(await Load.SaturateAsync(subject, options.Workers, options.Duration, ct));
        }
        var fb = BenchReport.Median(operation, baselineName, $"{options.Rate}/s", fixedBase);
        var fs = BenchReport.Median(operation, subjectName, $"{options.Rate}/s", fixedSub);
        var sb = BenchReport.Median(operation, baselineName, $"saturate x{options.Workers}", satBase);
        var ss = BenchReport.Median(operation, subjectName, $"saturate x{options.Workers}", satSub);
        report.Rows.AddRange([fb, fs, sb, ss]);

        var addedP50 = fs.P50Ms - fb.P50Ms;
        var addedP99 = fs.P99Ms - fb.P99Ms;
        var ratio = ss.Throughput / sb.Throughput;
        report.Comparisons.Add(new BenchComparison($"{operation}: added p50 at {options.Rate}/s", addedP50, "ms", "", null));
        report.Comparisons.Add(new BenchComparison($"{operation}: added p99 at {options.Rate}/s", addedP99, "ms",
            addedP99Target is { } t ? $"<= {t} ms" : "", addedP99Target is { } t2 ? addedP99 <= t2 : null));
        report.Comparisons.Add(new BenchComparison($"{operation}: saturated throughput {subjectName}/{baselineName}", ratio, "ratio",
            throughputRatioTarget is { } r ? $">= {r:0.00}" : "", throughputRatioTarget is { } r2 ? ratio >= r2 : null));
    }

    private static async Task RedisStateAsync(BenchReport report, BenchOptions options, string folder, CancellationToken ct)
    {
        if (!options.Includes("redis"))
        {
            return;
        }
        var exe = RedisCandidates.FirstOrDefault(File.Exists);
        if (exe is null)
        {
            report.Notes.Add("redis-server not installed: Redis state rows skipped (apt-get install redis-server)");
            return;
        }
        var port = SidecarHost.FreePort();
        using var redis = Process.Start(new ProcessStartInfo(exe, $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no") { RedirectStandardOutput = true })!;
        try
        {
            ConnectionMultiplexer? mux = null;
            await WaitForAsync(() =>
            {
                try
                {
                    mux = ConnectionMultiplexer.Connect($"127.0.0.1:{port},abortConnect=true");
                    return true;
                }
                catch (RedisConnectionException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(20));
            using var connection = mux!;
            var db = connection.GetDatabase();
            var redisFolder = Directory.CreateDirectory(Path.Combine(folder, "redis")).FullName;
            await File.WriteAllTextAsync(Path.Combine(redisFolder, "state.yaml"), $$"""
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata: { name: statestore }
                spec:
                  type: state.redis
                  version: v1
                  metadata:
                  - { name: redisHost, value: "127.0.0.1:{{port}}" }
                """, ct);
            SidecarHost sidecar;
            try
            {
                sidecar = await SidecarHost.StartAsync(Options("bench-redis", redisFolder, null), cancellationToken: ct);
            }
            catch (ResourceException e)
            {
                report.Notes.Add($"state.redis not available in this build: {e.Problem}");
                return;
            }
            await using (sidecar)
            {
                using var client = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcEndpoint).UseHttpEndpoint(sidecar.HttpEndpoint).Build();
                await client.SaveByteStateAsync("statestore", "k", Payload, cancellationToken: ct);
                await CompareAsync(report, options, "state get (redis)", "direct", c => db.HashGetAllAsync("bench-redis||k"),
                    "sidecar", c => client.GetByteStateAsync("statestore", "k", cancellationToken: c));
                await CompareAsync(report, options, "state save (redis)", "direct", c => db.HashSetAsync("bench-direct||k", [new HashEntry("data", Payload), new HashEntry("version", 1)]),
                    "sidecar", c => client.SaveByteStateAsync("statestore", "k", Payload, cancellationToken: c));
                report.Notes.Add("redis direct baseline: HGETALL / HSET with StackExchange.Redis; the sidecar runs Dapr's versioned Lua write");
            }
        }
        finally
        {
            redis.Kill();
        }
    }

    private static SidecarOptions Options(string appId, string folder, int? appPort)
    {
        var o = new SidecarOptions { AppId = appId, HttpPort = 0, GrpcPort = 0, AppPort = appPort, WorkingDirectory = folder };
        o.ResourcesPaths.Add(folder);
        return o;
    }

    private static async Task PostAsync(HttpClient http, Uri uri, CancellationToken ct)
    {
        using var content = new ByteArrayContent(Payload);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(uri, content, ct);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"status {(int)response.StatusCode}");
        }
        await response.Content.ReadAsByteArrayAsync(ct);
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return;
            }
            await Task.Delay(20);
        }
    }

    private sealed record Stamp(long Sent);

    private sealed class TargetApp(WebApplication app, int port) : IAsyncDisposable
    {
        public int Port { get; } = port;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task<TargetApp> StartTargetAppAsync(ChannelWriter<long> deliveries)
    {
        var port = SidecarHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.UseCloudEvents();
        app.MapSubscribeHandler();
        app.MapPost("/echo", async (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Request.Body.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
        });
        app.MapPost("/bench", (Stamp stamp) =>
        {
            deliveries.TryWrite(stamp.Sent);
            return Results.Ok();
        }).WithTopic("pubsub", "bench");
        await app.StartAsync();
        return new TargetApp(app, port);
    }
}
