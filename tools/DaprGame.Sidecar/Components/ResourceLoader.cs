using DaprGame.Sidecar.Resiliency;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace DaprGame.Sidecar.Components;

/// <summary>
/// Reads Dapr resource YAML (<c>Component</c>, <c>Subscription</c>, <c>Resiliency</c>, <c>Configuration</c>) from the
/// resources paths, as daprd does in self-hosted mode. Any malformed file fails with a <see cref="ResourceException"/>
/// naming the file and the problem.
/// </summary>
public static class ResourceLoader
{
    public static ResourceSet Load(SidecarOptions options)
    {
        var set = new ResourceSet();
        var secretStores = new List<(ComponentSpec Spec, YamlNode Raw)>();
        var pending = new List<(string File, YamlNode Doc)>();

        foreach (var dir in options.ResourcesPaths)
        {
            if (!Directory.Exists(dir))
            {
                throw new ResourceException(dir, "resources path does not exist");
            }
            foreach (var file in Directory.EnumerateFiles(dir).Where(IsYaml).Order(StringComparer.Ordinal))
            {
                pending.AddRange(ReadDocuments(file).Select(d => (file, d)));
            }
        }
        if (options.ConfigPath is { } configPath)
        {
            if (!File.Exists(configPath))
            {
                throw new ResourceException(configPath, "configuration file does not exist");
            }
            var docs = ReadDocuments(configPath).ToList();
            var config = docs.FirstOrDefault(d => Kind(d) == "Configuration");
            if (config.IsMissing)
            {
                throw new ResourceException(configPath, "no 'kind: Configuration' document in the configuration file");
            }
            set.Configuration = Guard(configPath, () => ParseConfiguration(config, configPath));
        }

        // Secret stores first: other components may resolve secretKeyRef through them.
        var env = options.GetEnvironmentVariable;
        foreach (var (file, doc) in pending.Where(p => Kind(p.Doc) == "Component"))
        {
            var type = Guard(file, () => doc["spec"]["type"].Required());
            if (type.StartsWith("secretstores.", StringComparison.Ordinal))
            {
                var spec = Guard(file, () => ParseComponent(doc, file, options, (_, _) => null));
                if (InScope(spec.Scopes, options.AppId))
                {
                    secretStores.Add((spec, doc));
                    set.Components.Add(spec);
                }
            }
        }
        var secrets = new SecretResolver(secretStores.Select(s => s.Spec), env, options.WorkingDirectory);

        foreach (var (file, doc) in pending)
        {
            switch (Kind(doc))
            {
                case "Component":
                    if (Guard(file, () => doc["spec"]["type"].Required()).StartsWith("secretstores.", StringComparison.Ordinal))
                    {
                        break;
                    }
                    var spec = Guard(file, () => ParseComponent(doc, file, options, secrets.Resolve));
                    if (InScope(spec.Scopes, options.AppId))
                    {
                        if (set.Components.Any(c => c.Name == spec.Name))
                        {
                            throw new ResourceException(file, $"a component named '{spec.Name}' is already defined");
                        }
                        set.Components.Add(spec);
                    }
                    break;
                case "Subscription":
                    var sub = Guard(file, () => ParseSubscription(doc, file));
                    if (InScope(sub.Scopes, options.AppId))
                    {
                        set.Subscriptions.Add(sub);
                    }
                    break;
                case "Resiliency":
                    if (InScope(Guard(file, () => doc["scopes"].AsStringList()), options.AppId))
                    {
                        Guard(file, () => ParseResiliency(doc, set.Resiliency));
                    }
                    break;
                case "Configuration":
                    // A Configuration among the resources is only used when --config names it, as in daprd.
                    break;
                case "HTTPEndpoint":
                    throw new ResourceException(file, "kind HTTPEndpoint is not implemented by the local sidecar");
                case var other:
                    throw new ResourceException(file, $"unknown resource kind '{other}'");
            }
        }
        return set;
    }

    private static bool IsYaml(string file) =>
        file.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    private static bool InScope(IReadOnlyList<string> scopes, string appId) => scopes.Count == 0 || scopes.Contains(appId);

    private static string Kind(YamlNode doc) => doc["kind"].AsString() ?? "";

    private static T Guard<T>(string file, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ResourceException)
        {
            throw;
        }
        catch (Exception e) when (e is FormatException or YamlException or ArgumentException or InvalidOperationException)
        {
            throw new ResourceException(file, e.Message.ReplaceLineEndings(" "));
        }
    }

    private static void Guard(string file, Action parse) => Guard(file, () =>
    {
        parse();
        return 0;
    });

    private static List<YamlNode> ReadDocuments(string file)
    {
        var docs = new List<YamlNode>();
        try
        {
            using var reader = new StreamReader(file);
            var parser = new Parser(reader);
            var deserializer = new DeserializerBuilder().Build();
            parser.Consume<YamlDotNet.Core.Events.StreamStart>();
            while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
            {
                var value = deserializer.Deserialize<object?>(parser);
                if (value is null)
                {
                    continue;
                }
                if (value is not IDictionary<object, object>)
                {
                    throw new ResourceException(file, "a resource document must be a YAML map");
                }
                var node = new YamlNode(value, "");
                if (node["kind"].IsMissing)
                {
                    throw new ResourceException(file, "'kind' is required");
                }
                docs.Add(node);
            }
        }
        catch (YamlException e)
        {
            throw new ResourceException(file, $"malformed YAML at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}".ReplaceLineEndings(" "));
        }
        return docs;
    }

    private static ComponentSpec ParseComponent(YamlNode doc, string file, SidecarOptions options, Func<string, string, IReadOnlyDictionary<string, string>?> secret)
    {
        var name = doc["metadata"]["name"].Required();
        var spec = doc["spec"];
        var type = spec["type"].Required();
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var secretRefs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var secretStore = doc["auth"]["secretStore"].AsString();
        foreach (var item in spec["metadata"].Items())
        {
            var key = item["name"].Required();
            if (!item["secretKeyRef"].IsMissing)
            {
                var secretName = item["secretKeyRef"]["name"].Required();
                var secretKey = item["secretKeyRef"]["key"].AsString() ?? secretName;
                if (secretStore is null)
                {
                    throw new FormatException($"metadata '{key}' uses secretKeyRef but the component has no auth.secretStore");
                }
                metadata[key] = secret(secretStore, secretName) is { } bag
                    ? SecretResolver.Pick(bag, secretKey) ?? throw new FormatException($"secret '{secretName}' has no key '{secretKey}' in store '{secretStore}'")
                    : throw new FormatException($"secret '{secretName}' not found in secret store '{secretStore}'");
                secretRefs[key] = secretName;
            }
            else if (!item["envRef"].IsMissing)
            {
                var envName = item["envRef"].Required();
                metadata[key] = options.GetEnvironmentVariable(envName) ?? "";
            }
            else
            {
                metadata[key] = ExpandPlaceholders(item["value"].AsString() ?? "", options);
            }
        }
        return new ComponentSpec(name, type, spec["version"].AsString() ?? "v1", metadata, doc["scopes"].AsStringList(), file) { SecretRefs = secretRefs };
    }

    /// <summary>daprd's metadata placeholders: <c>{appID}</c>, <c>{podName}</c>, <c>{namespace}</c>.</summary>
    private static string ExpandPlaceholders(string value, SidecarOptions options)
    {
        if (!value.Contains('{', StringComparison.Ordinal))
        {
            return value;
        }
        var ns = options.GetEnvironmentVariable("NAMESPACE");
        return value
            .Replace("{appID}", options.AppId, StringComparison.Ordinal)
            .Replace("{podName}", options.InstanceId, StringComparison.Ordinal)
            .Replace("{namespace}", ns is null ? options.AppId : $"{ns}.{options.AppId}", StringComparison.Ordinal);
    }

    private static SubscriptionSpec ParseSubscription(YamlNode doc, string file)
    {
        var name = doc["metadata"]["name"].Required();
        var spec = doc["spec"];
        var rules = new List<RouteRule>();
        string? defaultRoute = spec["route"].AsString();
        if (!spec["routes"].IsMissing)
        {
            defaultRoute = spec["routes"]["default"].AsString() ?? defaultRoute;
            rules.AddRange(spec["routes"]["rules"].Items().Select(r => new RouteRule(r["match"].Required(), r["path"].Required())));
        }
        var metadata = spec["metadata"].Entries().ToDictionary(e => e.Key, e => e.Node.AsString() ?? "", StringComparer.OrdinalIgnoreCase);
        return new SubscriptionSpec(name, spec["pubsubname"].Required(), spec["topic"].Required(), defaultRoute, rules,
            spec["deadLetterTopic"].AsString(), metadata, doc["scopes"].AsStringList(), file);
    }

    private static void ParseResiliency(YamlNode doc, ResiliencySpec into)
    {
        var policies = doc["spec"]["policies"];
        foreach (var (name, node) in policies["timeouts"].Entries())
        {
            into.Timeouts[name] = node.AsDuration() ?? throw new FormatException($"'{node.Path}' must be a duration");
        }
        foreach (var (name, node) in policies["retries"].Entries())
        {
            var kind = node["policy"].AsString() ?? "constant";
            if (kind is not ("constant" or "exponential"))
            {
                throw new FormatException($"'{node.Path}.policy' must be constant or exponential, not '{kind}'");
            }
            into.Retries[name] = new RetryPolicy(
                name,
                kind == "exponential",
                node[kind == "exponential" ? "initialInterval" : "duration"].AsDuration() ?? node["duration"].AsDuration() ?? (kind == "exponential" ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(5)),
                node["maxInterval"].AsDuration() ?? TimeSpan.FromSeconds(60),
                node["maxRetries"].AsInt() ?? -1)
            {
                HttpStatusCodes = node["matching"]["httpStatusCodes"].AsString() is { Length: > 0 } http ? StatusCodeSet.Parse(http, 100, 599) : null,
                GrpcStatusCodes = node["matching"]["gRPCStatusCodes"].AsString() is { Length: > 0 } grpc ? StatusCodeSet.Parse(grpc, 0, 16) : null,
            };
        }
        foreach (var (name, node) in policies["circuitBreakers"].Entries())
        {
            into.CircuitBreakers[name] = new CircuitBreakerPolicy(
                name,
                ParseTrip(node["trip"].AsString()),
                node["interval"].AsDuration() ?? TimeSpan.Zero,
                node["timeout"].AsDuration() ?? TimeSpan.FromSeconds(60),
                node["maxRequests"].AsInt() ?? 1);
        }

        var targets = doc["spec"]["targets"];
        foreach (var (name, node) in targets["apps"].Entries())
        {
            var size = node["circuitBreakerCacheSize"].AsInt() ?? TargetPolicies.DefaultBreakerCacheSize;
            if (size < 1)
            {
                throw new FormatException($"'{node.Path}.circuitBreakerCacheSize' must be at least 1");
            }
            into.Apps[name] = Target(node, into) with { BreakerCacheSize = size };
        }
        foreach (var (name, node) in targets["actors"].Entries())
        {
            if (node["circuitBreakerScope"].AsString() is { } scope && scope != "type")
            {
                throw new FormatException($"'{node.Path}.circuitBreakerScope: {scope}' is not implemented by the local sidecar (only 'type')");
            }
            into.Actors[name] = Target(node, into);
        }
        foreach (var (name, node) in targets["components"].Entries())
        {
            if (!node["inbound"].IsMissing)
            {
                into.Components[$"{name}/inbound"] = Target(node["inbound"], into);
            }
            if (!node["outbound"].IsMissing)
            {
                into.Components[$"{name}/outbound"] = Target(node["outbound"], into);
            }
        }
    }

    /// <summary>Dapr writes trips as CEL, in practice <c>consecutiveFailures &gt; N</c> or <c>&gt;= N</c>.</summary>
    private static int ParseTrip(string? trip)
    {
        if (trip is null)
        {
            return 5;
        }
        var m = System.Text.RegularExpressions.Regex.Match(trip, @"^\s*consecutiveFailures\s*(>=|>)\s*(\d+)\s*$");
        if (!m.Success)
        {
            throw new FormatException($"circuit breaker trip '{trip}' is not supported (use 'consecutiveFailures > N' or '>= N')");
        }
        var n = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return m.Groups[1].Value == ">" ? n + 1 : n;
    }

    private static TargetPolicies Target(YamlNode node, ResiliencySpec spec)
    {
        TimeSpan? timeout = null;
        if (node["timeout"].AsString() is { } t)
        {
            timeout = spec.Timeouts.TryGetValue(t, out var named) ? named
                : DurationParser.TryParse(t, out var inline) ? inline
                : throw new FormatException($"'{node.Path}.timeout' names unknown timeout policy '{t}'");
        }
        RetryPolicy? retry = null;
        if (node["retry"].AsString() is { } r)
        {
            retry = spec.Retries.TryGetValue(r, out var named) ? named : throw new FormatException($"'{node.Path}.retry' names unknown retry policy '{r}'");
        }
        CircuitBreakerPolicy? breaker = null;
        if (node["circuitBreaker"].AsString() is { } c)
        {
            breaker = spec.CircuitBreakers.TryGetValue(c, out var named) ? named : throw new FormatException($"'{node.Path}.circuitBreaker' names unknown circuit breaker '{c}'");
        }
        return new TargetPolicies(timeout, retry, breaker);
    }

    private static string Action(YamlNode node, string fallback) => node.AsString() switch
    {
        null or "" => fallback,
        var a when a.Equals("allow", StringComparison.OrdinalIgnoreCase) => "allow",
        var a when a.Equals("deny", StringComparison.OrdinalIgnoreCase) => "deny",
        var a => throw new FormatException($"'{node.Path}' must be allow or deny, not '{a}'"),
    };

    private static ConfigurationSpec ParseConfiguration(YamlNode doc, string file)
    {
        var spec = doc["spec"];
        var config = new ConfigurationSpec { SourceFile = file };
        if (spec["tracing"]["samplingRate"].AsString() is { } rate)
        {
            config.SamplingRate = double.TryParse(rate, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var r) && r is >= 0 and <= 1
                ? r
                : throw new FormatException($"'spec.tracing.samplingRate' must be between \"0\" and \"1\", not '{rate}'");
        }
        config.ZipkinEndpoint = spec["tracing"]["zipkin"]["endpointAddress"].AsString();
        if (spec["tracing"]["otel"]["endpointAddress"].AsString() is { Length: > 0 })
        {
            config.UnsupportedTracing.Add("otel");
        }
        if (spec["tracing"]["stdout"].AsBool() == true)
        {
            config.UnsupportedTracing.Add("stdout");
        }
        foreach (var f in spec["features"].Items())
        {
            config.Features[f["name"].Required()] = f["enabled"].AsBool() ?? false;
        }
        var acl = spec["accessControl"];
        if (!acl.IsMissing)
        {
            var defaultAction = Action(acl["defaultAction"], "allow");
            config.AccessControl = new AccessControlSpec(
                defaultAction,
                acl["trustDomain"].AsString() is { Length: > 0 } td ? td : "public",
                [.. acl["policies"].Items().Select(p => new AccessPolicy(
                    p["appId"].Required(),
                    Action(p["defaultAction"], defaultAction),
                    p["trustDomain"].AsString() is { Length: > 0 } ptd ? ptd : "public",
                    p["namespace"].AsString() is { Length: > 0 } ns ? ns : "default",
                    [.. p["operations"].Items().Select(o => new AccessOperation(
                        o["name"].Required(),
                        o["httpVerb"].AsStringList(),
                        Action(o["action"], "allow")))]))]);
        }
        return config;
    }
}
