namespace DaprGame.Sidecar.Hosting;

/// <summary>
/// A feature with work to finish while the API still answers: actors drain in-flight turns and deactivate, and the
/// app's last calls during deactivation (state saves) must still reach the sidecar. The host runs this before it
/// stops taking API calls.
/// </summary>
public interface ISidecarDrain
{
    Task DrainAsync(CancellationToken cancellationToken);
}
