using Dapr.Actors;
using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;

namespace DaprGame.Sidecar.Tests.Actors;

/// <summary>Resiliency on the <c>actors</c> target: a failing actor method is retried per policy, and only as often as it says.</summary>
[Collection("actors")]
public sealed class ActorResiliencyTests : IAsyncLifetime
{
    private const string Resiliency = """
        apiVersion: dapr.io/v1alpha1
        kind: Resiliency
        metadata: { name: actor-retries }
        spec:
          policies:
            retries:
              fiveQuick: { policy: constant, duration: 10ms, maxRetries: 5 }
          targets:
            actors:
              TestActor: { retry: fiveQuick }
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("daprgame-actor-resiliency-").FullName;
    private ActorNode _node = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _node = await ActorNode.StartAsync("resilient",
            ActorNode.SqliteResources(Path.Combine(_folder, "actors.db")) + "\n---\n" + Resiliency,
            new SidecarEnvironment { Registry = new InProcessAppRegistry() });

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_method_failing_three_times_succeeds_on_the_fourth_call()
    {
        var id = Guid.NewGuid().ToString("N");

        await _node.Untyped(id).InvokeMethodAsync(nameof(ITestActor.FlakyAsync), 3, Ct);

        Assert.Equal(4, ActorProbe.FlakyAttempts[id]);
    }

    [Fact]
    public async Task A_method_failing_ten_times_is_called_six_times_and_fails()
    {
        var id = Guid.NewGuid().ToString("N");

        await Assert.ThrowsAnyAsync<Exception>(() => _node.Untyped(id).InvokeMethodAsync(nameof(ITestActor.FlakyAsync), 10, Ct));

        Assert.Equal(6, ActorProbe.FlakyAttempts[id]);
    }
}
