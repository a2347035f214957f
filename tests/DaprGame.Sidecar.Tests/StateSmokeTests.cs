using Dapr.Client;
using DaprGame.Testing;

namespace DaprGame.Sidecar.Tests;

public sealed class StateSmokeTests
{
    [Fact]
    public async Task A_value_saved_through_the_sdk_reads_back_with_an_etag()
    {
        await using var sidecar = await TestSidecar.StartAsync("smoke", new Dictionary<string, string>
        {
            ["state.yaml"] = Yaml.Component("statestore", "state.in-memory"),
        });
        var ct = TestContext.Current.CancellationToken;

        await sidecar.Client.SaveStateAsync("statestore", "k1", new { Name = "ada" }, cancellationToken: ct);
        var (value, etag) = await sidecar.Client.GetStateAndETagAsync<Dictionary<string, string>>("statestore", "k1", cancellationToken: ct);

        Assert.Equal("ada", value["name"]);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.False(await sidecar.Client.TrySaveStateAsync("statestore", "k1", new { Name = "bob" }, "stale-etag", cancellationToken: ct));
    }
}
