using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DaprGame.Sidecar.Launcher;

/// <summary>
/// Parses <c>dapr.yaml</c> with the Dapr CLI's rules (shared/dapr-contract.md §6.1): <c>version</c> required;
/// paths in <c>common</c> and <c>appDirPath</c> are relative to the file, other app paths to <c>appDirPath</c>;
/// <c>~</c> expands; an app without resources uses <c>&lt;appDirPath&gt;/.dapr/resources</c>, then
/// <c>common.resourcesPaths</c>, then <c>~/.dapr/components</c>. Every error is one line naming file and field.
/// </summary>
public static class RunFileParser
{
    /// <summary>Keys that change how an app runs and that the launcher implements.</summary>
    private static readonly HashSet<string> AppKeys = new(StringComparer.Ordinal)
    {
        "appDirPath", "appID", "appPort", "appChannelAddress", "daprHTTPPort", "daprGRPCPort", "command", "env",
        "resourcesPath", "resourcesPaths", "configFilePath", "appProtocol", "enableAppHealthCheck", "appHealthCheckPath",
        "appHealthProbeInterval", "appHealthProbeTimeout", "appHealthThreshold", "logLevel",
    };

    /// <summary>Keys the CLI accepts that only affect real daprd's surroundings (logs, metrics, Kubernetes); read and ignored.</summary>
    private static readonly HashSet<string> IgnoredKeys = new(StringComparer.Ordinal)
    {
        "metricsPort", "profilePort", "enableProfiling", "runtimePath", "appLogDestination", "daprdLogDestination",
        "enableApiLogging", "placementHostAddress", "schedulerHostAddress", "containerImage", "containerImagePullPolicy",
        "createService", "daprPath", "daprInternalGRPCPort", "apiListenAddresses",
    };

    /// <summary>Keys the CLI accepts whose behaviour the local sidecar does not implement: refused by name.</summary>
    private static readonly Dictionary<string, string> RefusedKeys = new(StringComparer.Ordinal)
    {
        ["unixDomainSocket"] = "unix domain sockets are not implemented by the local sidecar",
        ["appSSL"] = "TLS to the app is not implemented by the local sidecar",
        ["appMaxConcurrency"] = "app max concurrency is not implemented by the local sidecar",
        ["maxBodySize"] = "maxBodySize is not implemented by the local sidecar (fixed 4Mi)",
        ["readBufferSize"] = "readBufferSize is not implemented by the local sidecar",
        ["daprHTTPMaxRequestSize"] = "daprHTTPMaxRequestSize is not implemented by the local sidecar (fixed 4Mi)",
        ["daprHTTPReadBufferSize"] = "daprHTTPReadBufferSize is not implemented by the local sidecar",
    };

    public static RunFile Load(string path)
    {
        var file = Path.GetFullPath(path);
        if (!File.Exists(file))
        {
            throw new LaunchException($"{path}: run file does not exist");
        }
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            root = stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode m
                ? m
                : throw new LaunchException($"{path}: a run file is one YAML map with 'version' and 'apps'");
        }
        catch (YamlException e)
        {
            throw new LaunchException($"{path}: malformed YAML at line {e.Start.Line}, column {e.Start.Column}: {(e.InnerException?.Message ?? e.Message).ReplaceLineEndings(" ")}");
        }
        var reader2 = new Reader(path);
        return reader2.Read(root, Path.GetDirectoryName(file)!, file);
    }

    private sealed class Reader(string display)
    {
        public RunFile Read(YamlMappingNode root, string baseDir, string file)
        {
            int? version = null;
            string? name = null;
            YamlMappingNode? common = null;
            YamlSequenceNode? apps = null;
            foreach (var (key, value) in Entries(root, ""))
            {
                switch (key)
                {
                    case "version": version = Int(value, "version"); break;
                    case "name": name = Scalar(value, "name"); break;
                    case "common": common = Map(value, "common"); break;
                    case "apps": apps = value as YamlSequenceNode ?? throw Error("apps", "must be a list of apps"); break;
                    default: throw Error(key, "unknown field (expected version, name, common, apps)");
                }
            }
            if (version is null or 0)
            {
                throw Error("version", "is required and must not be 0");
            }
            if (apps is null || apps.Children.Count == 0)
            {
                throw Error("apps", "is required and must name at least one app");
            }
            var shared = common is null ? new Dictionary<string, YamlNode>() : Fields(common, "common");
            if (shared.ContainsKey("appDirPath") || shared.ContainsKey("appID") || shared.ContainsKey("command"))
            {
                throw Error("common", "appDirPath, appID and command belong to each app, not to common");
            }
            var result = new List<RunApp>();
            for (var i = 0; i < apps.Children.Count; i++)
            {
                var at = $"apps[{i}]";
                var own = Fields(Map(apps.Children[i], at), at);
                result.Add(ReadApp(own, shared, at, baseDir));
            }
            var duplicate = result.GroupBy(a => a.AppId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                throw Error("apps", $"app-id '{duplicate.Key}' appears more than once");
            }
            return new RunFile { FilePath = file, Version = version.Value, Name = name, Apps = result };
        }

        private RunApp ReadApp(Dictionary<string, YamlNode> own, Dictionary<string, YamlNode> shared, string at, string baseDir)
        {
            var dirText = own.TryGetValue("appDirPath", out var d) ? Scalar(d, $"{at}.appDirPath") : throw Error($"{at}.appDirPath", "is required");
            var appDir = Resolve(dirText, baseDir);
            var appId = own.TryGetValue("appID", out var idNode) ? Scalar(idNode, $"{at}.appID") : Path.GetFileName(appDir.TrimEnd(Path.DirectorySeparatorChar));
            if (!Directory.Exists(appDir))
            {
                throw Error($"{at}.appDirPath", $"app '{appId}': directory '{dirText}' does not exist ({appDir})");
            }

            // An app's own value wins; a common value is the default. App paths resolve against appDirPath, common ones against the file.
            string? Str(string key) => own.TryGetValue(key, out var n) ? Scalar(n, $"{at}.{key}") : shared.TryGetValue(key, out var c) ? Scalar(c, $"common.{key}") : null;
            int? Number(string key) => own.TryGetValue(key, out var n) ? Int(n, $"{at}.{key}") : shared.TryGetValue(key, out var c) ? Int(c, $"common.{key}") : null;
            bool? Flag(string key) => own.TryGetValue(key, out var n) ? Bool(n, $"{at}.{key}") : shared.TryGetValue(key, out var c) ? Bool(c, $"common.{key}") : null;

            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            if (shared.TryGetValue("env", out var commonEnv))
            {
                foreach (var (k, v) in StringMap(commonEnv, "common.env"))
                {
                    env[k] = v;
                }
            }
            if (own.TryGetValue("env", out var appEnv))
            {
                foreach (var (k, v) in StringMap(appEnv, $"{at}.env"))
                {
                    env[k] = v;
                }
            }

            var resources = Paths(own, at, appDir);
            if (resources.Count == 0)
            {
                var dotDapr = Path.Combine(appDir, ".dapr", "resources");
                resources = Directory.Exists(dotDapr) ? [dotDapr] : Paths(shared, "common", baseDir);
                if (resources.Count == 0)
                {
                    resources = [Resolve("~/.dapr/components", baseDir)];
                }
            }
            var config = own.TryGetValue("configFilePath", out var cf) ? Resolve(Scalar(cf, $"{at}.configFilePath"), appDir)
                : shared.TryGetValue("configFilePath", out var ccf) ? Resolve(Scalar(ccf, "common.configFilePath"), baseDir)
                : null;

            var protocol = Str("appProtocol") ?? "http";
            if (protocol != "http")
            {
                throw Error(own.ContainsKey("appProtocol") ? $"{at}.appProtocol" : "common.appProtocol", $"app '{appId}': app protocol '{protocol}' is not implemented by the local sidecar (only http)");
            }
            var command = new List<string>();
            if (own.TryGetValue("command", out var cmd))
            {
                var list = cmd as YamlSequenceNode ?? throw Error($"{at}.command", "must be a list of arguments, e.g. [\"dotnet\", \"run\"]");
                for (var i = 0; i < list.Children.Count; i++)
                {
                    command.Add(Scalar(list.Children[i], $"{at}.command[{i}]"));
                }
            }
            return new RunApp
            {
                AppId = appId,
                AppDirPath = appDir,
                AppPort = Port(Number("appPort"), $"{at}.appPort"),
                AppChannelAddress = Str("appChannelAddress"),
                DaprHttpPort = Port(Number("daprHTTPPort"), $"{at}.daprHTTPPort"),
                DaprGrpcPort = Port(Number("daprGRPCPort"), $"{at}.daprGRPCPort"),
                Command = command,
                Env = env,
                ResourcesPaths = resources,
                ConfigFilePath = config,
                AppProtocol = protocol,
                EnableAppHealthCheck = Flag("enableAppHealthCheck") ?? false,
                AppHealthCheckPath = Str("appHealthCheckPath") ?? "/healthz",
                AppHealthProbeIntervalSeconds = Number("appHealthProbeInterval") ?? 5,
                LogLevel = Str("logLevel") ?? "info",
            };
        }

        private List<string> Paths(Dictionary<string, YamlNode> fields, string at, string relativeTo)
        {
            var paths = new List<string>();
            if (fields.TryGetValue("resourcesPaths", out var many))
            {
                var list = many as YamlSequenceNode ?? throw Error($"{at}.resourcesPaths", "must be a list of folders");
                for (var i = 0; i < list.Children.Count; i++)
                {
                    paths.Add(Resolve(Scalar(list.Children[i], $"{at}.resourcesPaths[{i}]"), relativeTo));
                }
            }
            if (fields.TryGetValue("resourcesPath", out var one))
            {
                paths.Add(Resolve(Scalar(one, $"{at}.resourcesPath"), relativeTo));
            }
            return paths;
        }

        private static string Resolve(string path, string relativeTo)
        {
            if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
            {
                path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "");
            }
            return Path.GetFullPath(path, relativeTo);
        }

        private int? Port(int? value, string at) => value switch
        {
            null or <= 0 => null,
            > 65535 => throw Error(at, $"{value} is not a port"),
            _ => value,
        };

        private Dictionary<string, YamlNode> Fields(YamlMappingNode map, string at)
        {
            var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (key, value) in Entries(map, at))
            {
                var where = $"{at}.{key}";
                if (RefusedKeys.TryGetValue(key, out var why))
                {
                    throw Error(where, why);
                }
                if (IgnoredKeys.Contains(key))
                {
                    continue;
                }
                if (!AppKeys.Contains(key))
                {
                    var hint = AppKeys.FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase));
                    throw Error(where, hint is null ? "unknown field" : $"unknown field (did you mean '{hint}'?)");
                }
                fields[key] = value;
            }
            return fields;
        }

        private IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode map, string at)
        {
            foreach (var (k, v) in map.Children)
            {
                yield return (Scalar(k, at.Length == 0 ? "(key)" : $"{at} key"), v);
            }
        }

        private YamlMappingNode Map(YamlNode node, string at) => node as YamlMappingNode ?? throw Error(at, "must be a map");

        private string Scalar(YamlNode node, string at) => node is YamlScalarNode { Value: { } v } ? v : throw Error(at, "must be a single value");

        private int Int(YamlNode node, string at) =>
            int.TryParse(Scalar(node, at), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw Error(at, $"must be an integer, not '{Scalar(node, at)}'");

        private bool Bool(YamlNode node, string at) =>
            bool.TryParse(Scalar(node, at), out var b) ? b : throw Error(at, $"must be true or false, not '{Scalar(node, at)}'");

        private IEnumerable<KeyValuePair<string, string>> StringMap(YamlNode node, string at)
        {
            foreach (var (k, v) in Entries(Map(node, at), at))
            {
                yield return new(k, Scalar(v, $"{at}.{k}"));
            }
        }

        private LaunchException Error(string field, string problem) => new($"{display}: {field}: {problem}");
    }
}
