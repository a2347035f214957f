using Dapr.Actors;
using Dapr.Actors.Client;
using DaprGame.Sidecar.Actors;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Testing;

namespace DaprGame.Sidecar.Tests.Actors;

/// <summary>
/// Separately started sidecars: each has its own file registry on one shared folder, so calls cross the loopback
/// HTTP hop between sidecars to the owner, and a stopped replica's actors move to the survivor.
/// </summary>
[Collection("actors")]
public sealed class FileActorPlacementTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-actors-").FullName;
    private ActorNode _a = null!;
    private ActorNode _b = null!;
    private TestSidecar _caller = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SidecarEnvironment Separate() => new() { Registry = new FileAppRegistry(Path.Combine(_folder, "registry")) };

    public async ValueTask InitializeAsync()
    {
        var resources = ActorNode.SqliteResources(Path.Combine(_folder, "actors.db"));
        _a = await ActorNode.StartAsync("a", resources, Separate());
        _b = await ActorNode.StartAsync("b", resources, Separate());
        _caller = await TestSidecar.StartAsync("caller", new Dictionary<string, string>(), environment: Separate());
        await _caller.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _caller.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private ITestActor Via(string id) =>
        ActorProxy.Create<ITestActor>(new ActorId(id), nameof(TestActor), new ActorProxyOptions { HttpEndpoint = _caller.Host.HttpEndpoint, RequestTimeout = TimeSpan.FromSeconds(30) });

    [Fact]
    public async Task Actors_spread_over_separately_started_replicas_and_move_to_the_survivor()
    {
        var ids = Enumerable.Range(0, 30).Select(_ => $"file-{Guid.NewGuid():N}").ToList();
        var where = new Dictionary<string, string>();
        foreach (var id in ids)
        {
            Assert.Equal(1, await Via(id).IncrementAsync());
            where[id] = await Via(id).WhereAsync();
        }
        Assert.Contains("a", where.Values);
        Assert.Contains("b", where.Values);

        await _b.DisposeAsync();
        foreach (var id in ids)
        {
            Assert.Equal("a", await Via(id).WhereAsync());
            Assert.Equal(2, await Via(id).IncrementAsync());
        }
    }

    [Fact]
    public async Task A_reminder_registered_on_one_sidecar_fires_on_the_owner_in_another()
    {
        string? id = null;
        for (var i = 0; i < 100 && id is null; i++)
        {
            var candidate = $"remote-{Guid.NewGuid():N}";
            if (await Via(candidate).WhereAsync() == "b")
            {
                id = candidate;
            }
        }
        Assert.NotNull(id);
        using var http = new HttpClient();
        using (var put = await http.PutAsync($"{_a.HttpEndpoint}/v1.0/actors/TestActor/{id}/reminders/remote",
            new StringContent("""{"dueTime":"0h0m0s1ms","data":"AQID"}"""), Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, put.StatusCode);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ActorProbe.Reminders.GetValueOrDefault($"{id}/remote") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the reminder registered on replica a did not fire on its owner b");
            await ActorProbe.ReminderFired.WaitAsync(TimeSpan.FromMilliseconds(200), Ct);
        }
    }

    [Theory]
    [InlineData("localhost:50005", false)]
    [InlineData("127.0.0.1:50005,127.0.0.1:50006", false)]
    [InlineData("/tmp/daprgame/placement", true)]
    [InlineData("", false)]
    public void Placement_host_address_names_a_folder_unless_it_is_daprd_host_port(string address, bool folder) =>
        Assert.Equal(folder, FileActorPlacement.IsFolderAddress(address));
}
