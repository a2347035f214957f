using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Persistence;
using DaprGame.Hosting;
using DaprGame.Persistence;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Infrastructure;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Sidecar.PubSub;
using DaprGame.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace DaprGame.Persistence.Tests;

/// <summary>
/// The real persistence app (PersistenceApp.Build) with its own local sidecar on the repository's embedded profile
/// (<c>components/local</c>: SQLite state, in-memory broker, the shared resiliency policies), and a recorder app with
/// its own sidecar subscribed to the replay topic. Events are published through the recorder's sidecar, as a service
/// would publish them. Each rig has its own registry, broker and database.
/// </summary>
public sealed class PersistenceRig : IAsyncDisposable
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, string> _resources;
    private readonly SidecarEnvironment _environment;
    private readonly Dictionary<string, string?> _settings;
    private WebApplication? _recorderApp;
    private TestSidecar? _recorder;

    private PersistenceRig(string folder, Dictionary<string, string?> settings)
    {
        Folder = folder;
        _settings = settings;
        _environment = new SidecarEnvironment { InMemoryBroker = new InMemoryBroker(), Registry = new InProcessAppRegistry() };
        _resources = LocalCluster.ProfileResources(ClusterProfile.Local, folder, null);
    }

    public string Folder { get; }

    public ServiceNode Persistence { get; private set; } = null!;

    /// <summary>Events received on <see cref="Topics.Replay"/>.</summary>
    public Channel<PersistenceEventReplayed> Replayed { get; } = Channel.CreateUnbounded<PersistenceEventReplayed>();

    public HttpClient Http { get; private set; } = null!;

    public static async Task<PersistenceRig> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var rig = new PersistenceRig(Directory.CreateTempSubdirectory("daprgame-persistence-").FullName, settings ?? []);
        try
        {
            await rig.StartRecorderAsync();
            await rig.StartPersistenceAsync();
            await rig.StatusAsync(atLeast: 0);
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
        return rig;
    }

    /// <summary>
    /// A Dapr client on the persistence sidecar with the services' JSON options, to read and (in tamper tests) write the
    /// stored log as the service does (keys carry the app-id prefix, so it must be this sidecar).
    /// </summary>
    public DaprClient StoreClient { get; private set; } = null!;

    /// <summary>The log as stored, read through the persistence sidecar.</summary>
    public LogStore Store => new(StoreClient);

    /// <summary>Publishes one integration event as a service does: the CloudEvent's type and id from the event.</summary>
    public Task PublishAsync(string topic, string type, object data, string? cloudEventId = null) =>
        _recorder!.Client.PublishEventAsync(Components.PubSub, topic, data, new Dictionary<string, string>
        {
            ["cloudevent.type"] = type,
            ["cloudevent.id"] = cloudEventId ?? Guid.NewGuid().ToString("N"),
        }, TestContext.Current.CancellationToken);

    /// <summary>Answers once the views reflect <paramref name="position"/>; fails the test if they do not within a minute.</summary>
    public async Task<LogStatus> WaitForAsync(long position)
    {
        var status = await StatusAsync(position);
        Assert.True(status.Watermark >= position, $"the views reached {status.Watermark}, not {position}; status {JsonSerializer.Serialize(status)}");
        return status;
    }

    public async Task<LogStatus> StatusAsync(long? atLeast = null)
    {
        var route = atLeast is { } p ? $"{PersistenceRoutes.Status}?atLeast={p}&waitMs={(int)WaitLimit.TotalMilliseconds}" : PersistenceRoutes.Status;
        return (await Http.GetFromJsonAsync<LogStatus>(route.TrimStart('/'), ServiceDefaults.JsonOptions, TestContext.Current.CancellationToken))!;
    }

    public async Task<T> PostAsync<T>(string route, object? body = null)
    {
        using var response = await Http.PostAsJsonAsync(route.TrimStart('/'), body, ServiceDefaults.JsonOptions, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"POST {route}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<T>(text, ServiceDefaults.JsonOptions)!;
    }

    public async Task<T> GetAsync<T>(string route) =>
        (await Http.GetFromJsonAsync<T>(route.TrimStart('/'), ServiceDefaults.JsonOptions, TestContext.Current.CancellationToken))!;

    /// <summary>Every stored record, 1..head, read back from the store.</summary>
    public async Task<List<LogRecord>> StoredRecordsAsync()
    {
        var (head, _) = await Store.ReadHeadAsync(TestContext.Current.CancellationToken);
        return head.Position == 0 ? [] : await Store.ReadRecordsAsync(1, head.Position, 500, TestContext.Current.CancellationToken);
    }

    /// <summary>Stops the app and its sidecar, then starts both again on the same database.</summary>
    public async Task RestartAsync()
    {
        Http.Dispose();
        await Persistence.StopAppAsync();
        await Persistence.StopSidecarAsync();
        await Persistence.StartAppAsync();
        await Persistence.StartSidecarAsync(_resources, _environment);
        Http = new HttpClient { BaseAddress = Persistence.AppAddress };
        StoreClient.Dispose();
        StoreClient = NewStoreClient();
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        StoreClient?.Dispose();
        if (Persistence is not null)
        {
            await Persistence.DisposeAsync();
        }
        if (_recorderApp is not null)
        {
            await _recorderApp.StopAsync(CancellationToken.None);
            await _recorderApp.DisposeAsync();
        }
        if (_recorder is not null)
        {
            await _recorder.DisposeAsync();
        }
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartPersistenceAsync()
    {
        Persistence = await ServiceNode.StartAsync(AppIds.Persistence, PersistenceApp.Build, _resources, _environment, b =>
        {
            b.Configuration["Persistence:BackupFolder"] = Path.Combine(Folder, "backups");
            b.Configuration.AddInMemoryCollection(_settings);
        });
        Http = new HttpClient { BaseAddress = Persistence.AppAddress };
        StoreClient = NewStoreClient();
    }

    private DaprClient NewStoreClient() => new DaprClientBuilder()
        .UseHttpEndpoint($"http://127.0.0.1:{Persistence.HttpPort}")
        .UseGrpcEndpoint($"http://127.0.0.1:{Persistence.GrpcPort}")
        .UseJsonSerializationOptions(ServiceDefaults.JsonOptions)
        .Build();

    private async Task StartRecorderAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/dapr/subscribe", () => Results.Json(new object[]
        {
            new { pubsubname = Components.PubSub, topic = Topics.Replay, route = "/replayed" },
        }));
        app.MapPost("/replayed", async (HttpRequest request) =>
        {
            using var doc = await JsonDocument.ParseAsync(request.Body);
            var replayed = doc.RootElement.GetProperty("data").Deserialize<PersistenceEventReplayed>(ServiceDefaults.JsonOptions)!;
            await Replayed.Writer.WriteAsync(replayed);
            return Results.Ok();
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        _recorderApp = app;
        var port = new Uri(app.Urls.First()).Port;
        _recorder = await TestSidecar.StartAsync("recorder", _resources, o => o.AppPort = port, _environment);
        await _recorder.Host.Ready.WaitAsync(WaitLimit, TestContext.Current.CancellationToken);
    }
}
