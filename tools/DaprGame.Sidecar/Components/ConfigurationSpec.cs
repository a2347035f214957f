namespace DaprGame.Sidecar.Components;

/// <summary>The parts of a <c>kind: Configuration</c> resource the local sidecar reads.</summary>
public sealed class ConfigurationSpec
{
    /// <summary>Trace sampling rate, "0" to "1".</summary>
    public double SamplingRate { get; set; } = 1;

    public string? ZipkinEndpoint { get; set; }

    /// <summary>Tracing exporters daprd has and the local sidecar does not (<c>otel</c>, <c>stdout</c>); reported at start-up.</summary>
    public List<string> UnsupportedTracing { get; } = [];

    /// <summary>Feature flags (<c>features: [{name, enabled}]</c>).</summary>
    public Dictionary<string, bool> Features { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Raw access-control section, applied by the invocation path.</summary>
    public AccessControlSpec? AccessControl { get; set; }

    public string SourceFile { get; set; } = "";
}

/// <summary>
/// Service-invocation access control, checked on the callee side. Defaults as daprd: action <c>allow</c>, trust domain
/// <c>public</c>, and a policy's namespace <c>default</c>.
/// </summary>
public sealed record AccessControlSpec(string DefaultAction, string TrustDomain, IReadOnlyList<AccessPolicy> Policies);

/// <summary>The rules for one calling app, identified as daprd does by app-id, trust domain and namespace.</summary>
public sealed record AccessPolicy(string AppId, string DefaultAction, string TrustDomain, string Namespace, IReadOnlyList<AccessOperation> Operations);

/// <summary>An operation path pattern (<c>*</c> one segment, <c>**</c> any depth) with its verbs and action.</summary>
public sealed record AccessOperation(string Name, IReadOnlyList<string> HttpVerbs, string Action);
