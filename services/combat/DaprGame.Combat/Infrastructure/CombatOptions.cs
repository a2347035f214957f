namespace DaprGame.Combat.Infrastructure;

/// <summary>
/// The <c>Combat</c> configuration section: <c>PublicUrl</c> (this replica's match socket as clients reach it; default
/// the first <c>ASPNETCORE_URLS</c> entry with a ws scheme and <c>/match</c>), <c>ReplicaId</c> (default host name and
/// process id), <c>TrustedCallers</c> (apps whose player header is believed: gateway), <c>TicketIssuer</c> (the
/// gateway app id whose JWKS verifies tickets, and the <c>iss</c> they carry: gateway / daprgame),
/// <c>ReconnectGrace</c> (00:00:10), <c>InputQueue</c> (inputs buffered per player, 32), <c>InputsPerTick</c> (per
/// player, 2: what the simulation accepts per tick; more wait in the queue for the next tick instead of being refused as a flood), <c>MaxBadFrames</c> (malformed or oversize frames before the socket is closed, 16), <c>SendQueue</c> (8),
/// <c>CheckpointTicks</c> (ticks between journal checkpoints, 20).
/// </summary>
public sealed class CombatOptions
{
    public required string PublicUrl { get; init; }

    public required string ReplicaId { get; init; }

    public required IReadOnlySet<string> TrustedCallers { get; init; }

    public string TicketApp { get; init; } = DaprGame.Contracts.AppIds.Gateway;

    public string TicketIssuer { get; init; } = "daprgame";

    public TimeSpan ReconnectGrace { get; init; } = TimeSpan.FromSeconds(10);

    public int InputQueue { get; init; } = 32;

    public int InputsPerTick { get; init; } = 2;

    public int MaxBadFrames { get; init; } = 16;

    /// <summary>Ticks between checkpoints of a running match's journal (what a takeover can lose); default one second's worth.</summary>
    public int CheckpointTicks { get; init; } = 20;

    /// <summary>Snapshots queued per client before the oldest is dropped (a slow client gets fewer, never stalls the loop).</summary>
    public int SendQueue { get; init; } = 8;

    public static CombatOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Combat");
        var options = new CombatOptions
        {
            PublicUrl = section["PublicUrl"] is { Length: > 0 } url ? url : DefaultPublicUrl(configuration),
            ReplicaId = section["ReplicaId"] is { Length: > 0 } id ? id : $"{Environment.MachineName}-{Environment.ProcessId}",
            TrustedCallers = (section.GetSection("TrustedCallers").Get<string[]>() is { Length: > 0 } callers ? callers : [DaprGame.Contracts.AppIds.Gateway])
                .ToHashSet(StringComparer.Ordinal),
            TicketApp = section["TicketApp"] is { Length: > 0 } app ? app : DaprGame.Contracts.AppIds.Gateway,
            TicketIssuer = section["TicketIssuer"] is { Length: > 0 } issuer ? issuer : "daprgame",
            ReconnectGrace = section.GetValue("ReconnectGrace", TimeSpan.FromSeconds(10)),
            InputQueue = section.GetValue("InputQueue", 32),
            InputsPerTick = section.GetValue("InputsPerTick", 2),
            MaxBadFrames = section.GetValue("MaxBadFrames", 16),
            SendQueue = section.GetValue("SendQueue", 8),
            CheckpointTicks = section.GetValue("CheckpointTicks", 20),
        };
        if (options.ReconnectGrace < TimeSpan.Zero || options.InputQueue < 1 || options.InputsPerTick < 1 || options.MaxBadFrames < 1 || options.SendQueue < 1 || options.CheckpointTicks < 1)
        {
            throw new InvalidOperationException("Combat: ReconnectGrace must be 0 or more; InputQueue, InputsPerTick, MaxBadFrames, SendQueue and CheckpointTicks above 0");
        }
        if (!Uri.TryCreate(options.PublicUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("ws" or "wss"))
        {
            throw new InvalidOperationException($"Combat:PublicUrl '{options.PublicUrl}' is not a ws:// or wss:// address");
        }
        return options;
    }

    /// <summary>The first <c>ASPNETCORE_URLS</c> (or <c>urls</c>) entry as a match socket address; a wildcard host becomes localhost.</summary>
    private static string DefaultPublicUrl(IConfiguration configuration)
    {
        var first = (configuration["ASPNETCORE_URLS"] ?? configuration["urls"] ?? "http://localhost:8080")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "http://localhost:8080";
        first = first.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal);
        var uri = new Uri(first);
        return new UriBuilder(uri) { Scheme = uri.Scheme == "https" ? "wss" : "ws", Path = DaprGame.Contracts.Combat.CombatRoutes.Socket }.Uri.ToString();
    }
}
