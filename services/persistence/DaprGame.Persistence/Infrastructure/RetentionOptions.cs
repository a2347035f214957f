namespace DaprGame.Persistence.Infrastructure;

/// <summary>
/// One retention rule under <c>Persistence:Retention:Policies</c>: streams whose id starts with
/// <see cref="StreamPrefix"/> keep their newest <see cref="KeepLast"/> records and anything younger than
/// <see cref="KeepFor"/> in the live store; older records move to a retention archive.
/// </summary>
public sealed class RetentionPolicyOptions
{
    public string StreamPrefix { get; set; } = "";

    public int? KeepLast { get; set; }

    public TimeSpan? KeepFor { get; set; }
}

/// <summary>Settings under <c>Persistence:Retention</c>.</summary>
public sealed class RetentionOptions
{
    public List<RetentionPolicyOptions> Policies { get; set; } = [];

    /// <summary>How often retention runs on its own (zero: only on request, <c>POST /v1/admin/retention</c>).</summary>
    public TimeSpan Every { get; set; } = TimeSpan.FromMinutes(10);
}
