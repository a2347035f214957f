namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>Resource YAML for the resiliency suite, written as users write it.</summary>
internal static class ResiliencyYaml
{
    /// <summary>A <c>kind: Resiliency</c> resource with the given <c>policies</c> and <c>targets</c> bodies (indented as under <c>spec:</c>).</summary>
    public static string Resiliency(string policies, string targets) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Resiliency
        metadata:
          name: resiliency
        spec:
          policies:
        {Indent(policies, 4)}
          targets:
        {Indent(targets, 4)}
        """;

    /// <summary>A <c>kind: Configuration</c> file with the given <c>spec</c> body.</summary>
    public static string Configuration(string spec) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Configuration
        metadata:
          name: config
        spec:
        {Indent(spec, 2)}
        """;

    private static string Indent(string text, int spaces) =>
        string.Join('\n', text.Trim('\n').Split('\n').Select(l => new string(' ', spaces) + l));
}
