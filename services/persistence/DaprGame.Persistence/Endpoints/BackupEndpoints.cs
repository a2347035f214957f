using Dapr;
using DaprGame.Contracts.Persistence;
using DaprGame.Persistence.Backups;
using DaprGame.Persistence.Domain.Backup;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Ingest;
using static DaprGame.Persistence.Endpoints.HistoryEndpoints;

namespace DaprGame.Persistence.Endpoints;

/// <summary>Backups for operators (service invocation only): create (online), list, verify, restore into an empty store.</summary>
public static class BackupEndpoints
{
    public static IEndpointRouteBuilder MapBackups(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(PersistenceRoutes.Backups, async (string? reason, BackupService backups, CancellationToken ct) =>
            await GuardAsync(async () => Results.Ok(await backups.CreateAsync(string.IsNullOrWhiteSpace(reason) ? "on request" : reason, ct))));
        routes.MapGet(PersistenceRoutes.Backups, (BackupService backups) => Results.Ok(backups.List()));
        routes.MapPost("/v1/admin/backups/{name}/verify", async (string name, BackupService backups, CancellationToken ct) =>
            BackupService.IsValidName(name)
                ? await GuardAsync(async () => Results.Ok(await backups.VerifyAsync(name, ct)))
                : Problem(StatusCodes.Status400BadRequest, "invalid", "not a backup name"));
        routes.MapPost(PersistenceRoutes.Restore, async (RestoreRequest? request, BackupService backups, CancellationToken ct) =>
            request is null || !BackupService.IsValidName(request.Name)
                ? Problem(StatusCodes.Status400BadRequest, "invalid", "a restore names a backup")
                : await GuardAsync(async () => Results.Ok(await backups.RestoreAsync(request.Name, ct))));
        return routes;
    }

    private static async Task<IResult> GuardAsync(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (FileNotFoundException e)
        {
            return Problem(StatusCodes.Status404NotFound, "not_found", e.Message);
        }
        catch (RestoreRefusedException e)
        {
            return Problem(StatusCodes.Status409Conflict, "conflict", e.Message);
        }
        catch (BackupException e)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "bad_backup", $"{e.Failure}: {e.Message}");
        }
        catch (ChainBrokenException e)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "bad_backup", e.Message);
        }
        catch (LogUnavailableException e)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", e.Message);
        }
        catch (Exception e) when (e is DaprException or FormatException or InvalidOperationException)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "no_backup_key", $"the backup key could not be read: {e.InnerException?.Message ?? e.Message}");
        }
    }
}
