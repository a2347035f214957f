using Microsoft.AspNetCore.Http;

namespace DaprGame.Sidecar.Actors;

/// <summary>
/// One call to an actor as it travels from the sidecar the caller used to the sidecar that owns the actor: the app
/// path under <c>/actors/{type}/{id}/</c> (<c>method/M</c>, <c>method/remind/N</c>, <c>method/timer/N</c>), the
/// buffered body, and the caller's headers to forward. Bodies are small and buffered once so a call can be re-routed
/// after a placement change without re-reading the caller's stream.
/// </summary>
public sealed class ActorRequest(string type, string id, string path)
{
    public string Type { get; } = type;

    public string Id { get; } = id;

    public string Path { get; } = path;

    public ReadOnlyMemory<byte> Body { get; init; }

    public string? ContentType { get; init; }

    /// <summary>The caller's headers, forwarded to the app except hop-by-hop and credential headers.</summary>
    public IHeaderDictionary? Headers { get; init; }

    /// <summary>A timer callback only runs on the activation that registered it, and never activates an actor.</summary>
    internal object? TimerOf { get; init; }

    internal string? ReentrancyId => Headers?["Dapr-Reentrancy-Id"] is { Count: > 0 } v ? v[0] : null;
}

/// <summary>The app's answer to one actor call, buffered, or the reason the call did not reach it.</summary>
public sealed class ActorResult
{
    public static readonly ActorResult NotOwner = new() { Status = 421 };

    public static readonly ActorResult Dropped = new() { Status = 410 };

    public int Status { get; init; }

    public byte[] Body { get; init; } = [];

    public List<KeyValuePair<string, string>> Headers { get; } = [];

    /// <summary>Set when the sidecar itself failed the call (placement, app unreachable, stack depth).</summary>
    public DaprApiException? Error { get; init; }

    /// <summary>The app (or the owning sidecar) could not be reached at all: nothing was delivered.</summary>
    public bool Unreachable { get; init; }

    internal string? Header(string name)
    {
        foreach (var (k, v) in Headers)
        {
            if (k.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }
        return null;
    }
}
