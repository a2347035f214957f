namespace DaprGame.Sidecar.Components;

/// <summary>The parts of a <c>kind: Configuration</c> resource the local sidecar reads.</summary>
public sealed class ConfigurationSpec
{
    /// <summary>Trace sampling rate, "0" to "1".</summary>
    public double SamplingRate { get; set; } = 1;

    public string? ZipkinEndpoint { get; set; }

    /// <summary>Feature flags (<c>features: [{name, enabled}]</c>).</summary>
    public Dictionary<string, bool> Features { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Raw access-control section, applied by the invocation path.</summary>
    public AccessControlSpec? AccessControl { get; set; }

    public string SourceFile { get; set; } = "";
}

/// <summary>Service-invocation access control, checked on the callee side.</summary>
public sealed record AccessControlSpec(string DefaultAction, IReadOnlyList<AccessPolicy> Policies);

public sealed record AccessPolicy(string AppId, string DefaultAction, IReadOnlyList<AccessOperation> Operations);

public sealed record AccessOperation(string Name, IReadOnlyList<string> HttpVerbs, string Action);
