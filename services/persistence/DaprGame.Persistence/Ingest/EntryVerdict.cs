namespace DaprGame.Persistence.Ingest;

/// <summary>What the sidecar is told about one delivered entry (Dapr's bulk statuses).</summary>
public enum EntryVerdict
{
    /// <summary>In the log (now or before): acknowledge.</summary>
    Success,

    /// <summary>Not in the log yet: deliver it again.</summary>
    Retry,

    /// <summary>Can never be logged (malformed): do not deliver it again.</summary>
    Drop,
}
