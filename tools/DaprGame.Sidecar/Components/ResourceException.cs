namespace DaprGame.Sidecar.Components;

/// <summary>A resource file the sidecar cannot use. The message is one line naming the file and the problem.</summary>
public sealed class ResourceException(string file, string problem) : Exception($"{file}: {problem}")
{
    public string File { get; } = file;

    public string Problem { get; } = problem;
}
