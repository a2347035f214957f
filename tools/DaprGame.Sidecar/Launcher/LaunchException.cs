namespace DaprGame.Sidecar.Launcher;

/// <summary>A run template or a launch that cannot proceed; the message is one line naming the file, app or field.</summary>
public sealed class LaunchException(string message) : Exception(message);
