using DaprGame.Contracts;
using DaprGame.Sidecar;
using DaprGame.Sidecar.Components;
using DaprGame.Sidecar.Launcher;

namespace DaprGame.Launcher.Tests;

/// <summary>The repository's <c>dapr.yaml</c> and component profiles, read the way the launcher and the sidecar read them.</summary>
public sealed class RunFileTests
{
    private const string StateKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

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
        var options = new SidecarOptions
        {
            AppId = AppIds.Trading,
            ConfigPath = Path.Combine(Repo.Root, "components", "config.yaml"),
            Environment = new Dictionary<string, string> { ["DAPRGAME_STATE_KEY"] = StateKey },
        };
        options.ResourcesPaths.Add(Repo.Components(profile));

        var set = ResourceLoader.Load(options);

        var state = Assert.Single(set.Components, c => c.Name == DaprGame.Contracts.Components.StateStore);
        Assert.Equal(stateType, state.Type);
        Assert.Equal("true", state.Metadata["actorStateStore"]);
        Assert.Equal("secretstore", Assert.Single(set.Components, c => c.Block == "secretstores").Name);
        if (profile == "local")
        {
            Assert.Null(state.Get("primaryEncryptionKey"));
        }
        else
        {
            Assert.Equal("DAPRGAME_STATE_KEY", state.SecretRefs["primaryEncryptionKey"]);
            Assert.Equal(StateKey, state.Metadata["primaryEncryptionKey"]);
        }
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

    [Theory]
    [InlineData("redis")]
    [InlineData("postgres")]
    [InlineData("kafka")]
    public void Encrypted_profiles_refuse_to_load_without_the_state_key(string profile)
    {
        var options = new SidecarOptions { AppId = AppIds.Trading, Environment = new Dictionary<string, string>() };
        options.ResourcesPaths.Add(Repo.Components(profile));

        var e = Assert.Throws<ResourceException>(() => ResourceLoader.Load(options));

        Assert.Contains("statestore.yaml", e.Message, StringComparison.Ordinal);
        Assert.Contains("secret 'DAPRGAME_STATE_KEY' not found in secret store 'secretstore'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_local_secret_file_is_found_from_every_app_folder_and_holds_a_32_byte_backup_key()
    {
        var file = RunFileParser.Load(Repo.RunFile);
        var yaml = File.ReadAllText(Path.Combine(Repo.Components("local"), "secretstore.yaml"));
        var relative = System.Text.RegularExpressions.Regex.Match(yaml, "value: \"([^\"]+secrets\\.json)\"").Groups[1].Value;

        foreach (var app in file.Apps)
        {
            // daprd (and the launcher's sidecar) resolve the path against the app's folder, their working directory.
            var path = Path.GetFullPath(Path.Combine(app.AppDirPath, relative));
            Assert.Equal(Path.Combine(Repo.Components("local"), "secrets.json"), path);
        }
        using var secrets = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Components("local"), "secrets.json")));
        Assert.Equal(32, Convert.FromHexString(secrets.RootElement.GetProperty("persistence-backup-key").GetString()!).Length);
    }
}
