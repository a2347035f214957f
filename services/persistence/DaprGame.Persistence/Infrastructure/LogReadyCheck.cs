using DaprGame.Persistence.Ingest;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DaprGame.Persistence.Infrastructure;

/// <summary><c>/readyz</c>: healthy once the log is recovered and appending; unhealthy with the reason otherwise.</summary>
public sealed class LogReadyCheck(LogKeeper keeper) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(keeper.Ready ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(keeper.Status().Problem ?? "recovering the log"));
}
