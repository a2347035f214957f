namespace DaprGame.Gateway.Realtime;

/// <summary>
/// The <c>Gateway</c> configuration section: socket limits, queues, resume and rate limits. Every limit is per
/// gateway replica (a player connected to two replicas may hold the cap on each).
/// </summary>
public sealed class RealtimeOptions
{
    public const string Section = "Gateway";

    /// <summary>Origins (scheme://host[:port]) whose pages may open <c>/ws</c>. Requests without Origin and the gateway's own origin are always allowed.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>Open sockets one player may hold on this replica; one more is refused with 429 before the upgrade.</summary>
    public int MaxConnectionsPerPlayer { get; set; } = 3;

    /// <summary>Largest inbound message; a bigger one closes the socket with 1009.</summary>
    public int MaxMessageBytes { get; set; } = 16 * 1024;

    /// <summary>Frames one socket may have waiting to be written; one more closes it with 4008 (slow consumer).</summary>
    public int OutboundQueueFrames { get; set; } = 1024;

    /// <summary>How long a resume token outlives its socket, in seconds (<c>Gateway:ResumeGrace</c>).</summary>
    public int ResumeGrace { get; set; } = 120;

    /// <summary>How often presence is re-asserted to chat while a socket watches a channel (chat expires it after 90 s).</summary>
    public int PresenceRefreshSeconds { get; set; } = 30;

    /// <summary>How long a closing socket may take to exchange close frames before it is aborted.</summary>
    public int CloseTimeoutSeconds { get; set; } = 5;

    /// <summary>WebSocket keep-alive (ping) interval.</summary>
    public int KeepAliveSeconds { get; set; } = 30;

    /// <summary>How many history pages one catch-up or gap fill may read before it gives up and signals a truncation.</summary>
    public int MaxCatchUpPages { get; set; } = 50;

    public RateLimitOptions RateLimits { get; set; } = new();
}

/// <summary>Token buckets per player per operation class (<c>Gateway:RateLimits:*</c>).</summary>
public sealed class RateLimitOptions
{
    /// <summary>message.send, message.edit, dm.send.</summary>
    public BucketOptions Send { get; set; } = new() { PerSecond = 10, Burst = 20 };

    /// <summary>channel.join, channel.create.</summary>
    public BucketOptions Join { get; set; } = new() { PerSecond = 2, Burst = 5 };

    /// <summary>Everything else, including ping and resume.</summary>
    public BucketOptions Other { get; set; } = new() { PerSecond = 20, Burst = 40 };

    /// <summary>
    /// A socket whose player has more refused requests within <see cref="FloodWindowSeconds"/> than
    /// <see cref="FloodFactor"/> × the class's rate × the window is closed with 1008.
    /// </summary>
    public double FloodFactor { get; set; } = 10;

    public double FloodWindowSeconds { get; set; } = 5;
}

public sealed class BucketOptions
{
    public double PerSecond { get; set; }

    public double Burst { get; set; }
}
