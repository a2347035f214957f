using DaprGame.Contracts;
using DaprGame.Sidecar;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Launcher;

namespace DaprGame.Launcher.Tests;

/// <summary>The repository's <c>dapr.yaml</c> and component profiles, read the way the launcher and the sidecar read them.</summary>
public sealed class RunFileTests
{
    [Fact]
    public void Dapr_yaml_names_every_service_with_its_folder_port_and_the_local_profile()
    {
        var file = RunFileParser.Load(Repo.RunFile);

        Assert.Equal(AppIds.All, file.Apps.Select(a => a.AppId));
        foreach (var app in file.Apps)
        {
            var name = char.ToUpperInvariant(app.AppId[0]) + app.AppId[1..];
            Assert.Equal(Path.Combine(Repo.Root, "services", app.AppId, $"DaprGame.{name}"), app.AppDirPath);
            Assert.Equal($"http://localhost:{app.AppPort}", app.Env["ASPNETCORE_URLS"]);
            Assert.Equal(["dotnet", "run", "--no-build", "--no-launch-profile"], app.Command);
            Assert.Equal([Repo.Components("local")], app.ResourcesPaths);
            Assert.Equal(Path.Combine(Repo.Root, "components", "config.yaml"), app.ConfigFilePath);
        }
        Assert.Equal(file.Apps.Count, file.Apps.Select(a => a.AppPort).Distinct().Count());
    }

    [Theory]
    [InlineData("local", "state.sqlite", "pubsub.in-memory")]
    [InlineData("redis", "state.redis", "pubsub.redis")]
    [InlineData("postgres", "state.postgresql", "pubsub.redis")]
    [InlineData("kafka", "state.redis", "pubsub.kafka")]
    public void Each_profile_loads_alone_with_statestore_pubsub_and_resiliency(string profile, string stateType, string pubsubType)
    {
        var options = new SidecarOptions { AppId = AppIds.Trading, ConfigPath = Path.Combine(Repo.Root, "components", "config.yaml") };
        options.ResourcesPaths.Add(Repo.Components(profile));

        var set = ResourceLoader.Load(options);

        var state = Assert.Single(set.Components, c => c.Name == DaprGame.Contracts.Components.StateStore);
        Assert.Equal(stateType, state.Type);
        Assert.Equal("true", state.Metadata["actorStateStore"]);
        Assert.Equal(pubsubType, Assert.Single(set.Components, c => c.Name == DaprGame.Contracts.Components.PubSub).Type);
        Assert.All(AppIds.All, id => Assert.NotNull(set.Resiliency.Apps[id].Timeout));
        Assert.NotNull(set.Resiliency.Components["pubsub/inbound"].Retry);
        Assert.Equal("allow", set.Configuration.AccessControl?.DefaultAction);
        Assert.Equal("http://localhost:9411/api/v2/spans", set.Configuration.ZipkinEndpoint);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("redis")]
    [InlineData("postgres")]
    [InlineData("kafka")]
    public void Each_profiles_resiliency_is_the_shared_file(string profile) =>
        Assert.Equal(
            File.ReadAllText(Path.Combine(Repo.Root, "components", "resiliency.yaml")),
            File.ReadAllText(Path.Combine(Repo.Components(profile), "resiliency.yaml")));
}
