using System.Collections.Concurrent;
using Dapr;
using System.Diagnostics;
using System.Globalization;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Persistence;
using DaprGame.Hosting;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Infrastructure;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.PubSub;
using DaprGame.Testing;
using DaprGame.Testing.Servers;
using System.Net.Http.Json;

namespace DaprGame.Persistence.Tests;

/// <summary>
/// RELIABILITY #6, the event-log append test: 8 producers append to 16 streams through Redis Streams for 60 s while the
/// persistence process is killed with SIGKILL 5 times (a real child process; its sidecar, the broker and the SQLite store
/// live on). Afterwards: every acknowledged append is in the log exactly once, every stream's records are its sequence
/// 1..n in order with no gap, the chain holds, and the views rebuilt from the log equal the incremental ones, as does
/// snapshot + tail. Recovery time after each kill is reported.
/// </summary>
public sealed class EventLogKillTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const int Producers = 8;
    private const int StreamsPerProducer = 2;
    private const int Kills = 5;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PublishInterval = TimeSpan.FromMilliseconds(25);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Acknowledged_appends_survive_five_kills_without_loss_duplicates_gaps_or_reordering()
    {
        var folder = Directory.CreateTempSubdirectory("daprgame-killtest-").FullName;
        var resources = new Dictionary<string, string>
        {
            ["statestore.yaml"] = Yaml.Component(Components.StateStore, "state.sqlite", new Dictionary<string, string>
            {
                ["connectionString"] = Path.Combine(folder, "state.db"),
            }),
            // Unacknowledged entries of a killed consumer come back after processingTimeout.
            ["pubsub.yaml"] = Yaml.Component(Components.PubSub, "pubsub.redis", new Dictionary<string, string>
            {
                ["redisHost"] = redis.Host,
                ["processingTimeout"] = "5s",
                ["redeliverInterval"] = "1s",
            }),
            ["resiliency.yaml"] = await File.ReadAllTextAsync(Path.Combine(LocalCluster.RepositoryRoot(), "components", "local", "resiliency.yaml"), Ct),
        };
        var environment = new SidecarEnvironment { Registry = new InProcessAppRegistry(), InMemoryBroker = new InMemoryBroker() };
        var appPort = SidecarHost.FreePort();
        var httpPort = SidecarHost.FreePort(except: appPort);
        var grpcPort = SidecarHost.FreePort(except: httpPort);
        await using var sidecar = await TestSidecar.StartAsync(AppIds.Persistence, resources, o =>
        {
            o.AppPort = appPort;
            o.HttpPort = httpPort;
            o.GrpcPort = grpcPort;
        }, environment);
        await using var producerSidecar = await TestSidecar.StartAsync("producer", resources, environment: environment);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{appPort}") };
        using var store = new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{httpPort}").UseGrpcEndpoint($"http://127.0.0.1:{grpcPort}")
            .UseJsonSerializationOptions(ServiceDefaults.JsonOptions).Build();

        var service = PersistenceProcess.Start(appPort, httpPort, grpcPort, folder);
        try
        {
            await service.Recovered.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            await sidecar.Host.Ready.WaitAsync(TimeSpan.FromSeconds(60), Ct);

            var acked = new ConcurrentDictionary<string, (int Stream, long Sequence)>();
            var publishRetries = 0L;
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource();
            var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
            {
                var sequences = new long[StreamsPerProducer];
                using var pace = new PeriodicTimer(PublishInterval);
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var local = n % StreamsPerProducer;
                    var stream = p * StreamsPerProducer + local;
                    var sequence = ++sequences[local];
                    var data = new { id = $"s{stream}:{sequence}", streamId = $"kill/s{stream}", sequence, occurredAt = DateTimeOffset.UtcNow, value = $"{p}-{n}" };
                    // At-least-once publishing: an unanswered publish is sent again (same event id) until acknowledged.
                    while (true)
                    {
                        try
                        {
                            await producerSidecar.Client.PublishEventAsync(Components.PubSub, Topics.Players, data,
                                new Dictionary<string, string> { ["cloudevent.type"] = "test.append.v1" }, Ct);
                            break;
                        }
                        catch (Exception e) when (e is DaprException or HttpRequestException)
                        {
                            Interlocked.Increment(ref publishRetries);
                        }
                    }
                    acked[data.id] = (stream, sequence);
                    await pace.WaitForNextTickAsync(Ct);
                }
            }, Ct)).ToList();

            // Kill when the log has grown by a few thousand records since the last recovery; restart at once.
            var recoveries = new List<(double Wall, double Reported, long Position)>();
            for (var kill = 1; kill <= Kills; kill++)
            {
                var at = await StatusAsync(http);
                await StatusAsync(http, at.Position + 2_000, 120_000);
                var killedAt = Stopwatch.GetTimestamp();
                service.Kill();
                service = PersistenceProcess.Start(appPort, httpPort, grpcPort, folder);
                await service.Recovered.WaitAsync(TimeSpan.FromSeconds(120), Ct);
                var status = await StatusAsync(http);
                recoveries.Add((Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds, status.RecoveredInMs, status.Position));
            }
            while (clock.Elapsed < Duration)
            {
                // Keep producing for the whole minute after the last kill, checking progress as we go.
                var at = await StatusAsync(http);
                await StatusAsync(http, at.Position + 500, (int)Math.Max(1, (Duration - clock.Elapsed).TotalMilliseconds));
            }
            await stop.CancelAsync();
            await Task.WhenAll(producers);
            var produceSeconds = clock.Elapsed.TotalSeconds;

            var final = await StatusAsync(http, acked.Count, 180_000);
            var (head, _) = await new LogStore(store).ReadHeadAsync(Ct);
            var records = await new LogStore(store).ReadRecordsAsync(1, head.Position, 1_000, Ct);

            var report = ChainVerifier.Verify(records);
            var byId = records.GroupBy(r => r.EventId).ToDictionary(g => g.Key, g => g.Count());
            var lost = acked.Keys.Count(id => !byId.ContainsKey(id));
            var duplicates = byId.Values.Sum(c => c - 1);
            var unacknowledgedInLog = byId.Keys.Count(id => !acked.ContainsKey(id));
            var orderProblems = 0;
            foreach (var stream in records.GroupBy(r => r.StreamId))
            {
                var expected = 1L;
                foreach (var record in stream)
                {
                    if (record.Sequence != expected++ || record.Flags != RecordFlags.None)
                    {
                        orderProblems++;
                    }
                }
            }
            var rebuild = await PostAsync<RebuildResult>(http, PersistenceRoutes.Rebuild);
            var snapshot = await PostAsync<SnapshotResult>(http, PersistenceRoutes.Snapshot);

            var walls = recoveries.Select(r => r.Wall).Order().ToList();
            TestContext.Current.SendDiagnosticMessage(string.Create(CultureInfo.InvariantCulture,
                $"acknowledged {acked.Count} appends over {produceSeconds:F0} s ({acked.Count / produceSeconds:F0}/s), {publishRetries} publish retries; " +
                $"log {records.Count} records; lost {lost}, duplicates {duplicates}, gaps/reorderings {orderProblems}, unacknowledged in log {unacknowledgedInLog}; " +
                $"chain {(report.IsValid ? "valid" : report.Problem)}; views rebuilt equal {rebuild.Equal}, snapshot+tail equal {snapshot.TailReplayEqualsFull}; " +
                $"service duplicates {final.Duplicates}, parked for gaps {final.HeldForGaps}; recovery after kill (kill → appending, wall ms): " +
                $"{string.Join(", ", recoveries.Select(r => $"{r.Wall:F0} (log read {r.Reported:F0} at {r.Position})"))}; max {walls[^1]:F0}, p99 (nearest rank) {walls[(int)Math.Ceiling(0.99 * walls.Count) - 1]:F0}"));

            Assert.True(report.IsValid, report.Problem);
            Assert.Equal(0, lost);
            Assert.Equal(0, duplicates);
            Assert.Equal(0, orderProblems);
            Assert.Equal(0, unacknowledgedInLog);
            Assert.Equal(acked.Count, records.Count);
            Assert.Equal(Producers * StreamsPerProducer, records.Select(r => r.StreamId).Distinct().Count());
            Assert.True(rebuild.Equal, $"rebuilt {rebuild.RebuiltHash}, live {rebuild.LiveHash}");
            Assert.True(snapshot.TailReplayEqualsFull);
            Assert.Equal(Kills, recoveries.Count);
        }
        finally
        {
            service.Kill();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<LogStatus> StatusAsync(HttpClient http, long? atLeast = null, int waitMs = 0)
    {
        var route = atLeast is { } p ? $"v1/admin/status?atLeast={p}&waitMs={waitMs}" : "v1/admin/status";
        return (await http.GetFromJsonAsync<LogStatus>(route, ServiceDefaults.JsonOptions, Ct))!;
    }

    private static async Task<T> PostAsync<T>(HttpClient http, string route)
    {
        using var response = await http.PostAsync(route.TrimStart('/'), null, Ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>(ServiceDefaults.JsonOptions, Ct))!;
    }

    /// <summary>The persistence service as its own OS process (what the pod runs), killed with SIGKILL.</summary>
    private sealed class PersistenceProcess
    {
        private readonly Process _process;
        private readonly TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private PersistenceProcess(Process process) => _process = process;

        /// <summary>Completes when the service logs that its log is recovered and appending.</summary>
        public Task Recovered => _recovered.Task;

        public static PersistenceProcess Start(int appPort, int httpPort, int grpcPort, string folder)
        {
            var testFolder = new DirectoryInfo(AppContext.BaseDirectory);
            var dll = Path.Combine(testFolder.Parent!.Parent!.FullName, "DaprGame.Persistence", testFolder.Name, "DaprGame.Persistence.dll");
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
            info.ArgumentList.Add(dll);
            info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{appPort}";
            info.Environment["APP_ID"] = AppIds.Persistence;
            info.Environment["DAPR_HTTP_ENDPOINT"] = $"http://127.0.0.1:{httpPort}";
            info.Environment["DAPR_GRPC_ENDPOINT"] = $"http://127.0.0.1:{grpcPort}";
            info.Environment["Persistence__SnapshotEvery"] = "2000";
            info.Environment["Logging__Console__FormatterName"] = "simple";
            info.Environment["Logging__LogLevel__Default"] = "Warning";
            info.Environment["Logging__LogLevel__DaprGame.Persistence.Ingest.LogKeeper"] = "Information";
            var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the persistence service");
            var started = new PersistenceProcess(process);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("log recovered", StringComparison.Ordinal) == true)
                {
                    started._recovered.TrySetResult();
                }
            };
            process.ErrorDataReceived += (_, _) => { };
            process.Exited += (_, _) => started._recovered.TrySetException(new InvalidOperationException($"the persistence service exited with {process.ExitCode}"));
            process.EnableRaisingEvents = true;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return started;
        }

        public void Kill()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}
