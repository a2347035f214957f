using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Contracts.Persistence;
using DaprGame.Persistence.Domain.Log;
using DaprGame.Persistence.Infrastructure;
using DaprGame.Persistence.Ingest;
using static DaprGame.Persistence.Endpoints.HistoryEndpoints;

namespace DaprGame.Persistence.Endpoints;

/// <summary>
/// Operators' routes under <c>/v1/admin</c> (service invocation only; the gateway never forwards them): status, chain
/// verification against the store, rebuild and snapshot checks, rollback (audited in the log itself), replay to
/// <see cref="Topics.Replay"/>.
/// </summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(PersistenceRoutes.Status, async (long? atLeast, int? waitMs, LogKeeper keeper, CancellationToken ct) =>
        {
            // ?atLeast=P&waitMs=T answers once the views reflect position P (or after T ms, up to 60 s): read-your-writes
            // for a caller that knows the position it needs, without polling.
            if (atLeast is { } position && waitMs is > 0)
            {
                await keeper.WaitForWatermarkAsync(position, TimeSpan.FromMilliseconds(Math.Min(waitMs.Value, 60_000)), ct);
            }
            return Results.Ok(keeper.Status());
        });
        routes.MapPost(PersistenceRoutes.Status + "/lag/reset", (LogKeeper keeper) =>
        {
            keeper.ResetLag();
            return Results.NoContent();
        });
        routes.MapGet(PersistenceRoutes.Verify, VerifyAsync);
        routes.MapPost(PersistenceRoutes.Rebuild, (LogKeeper keeper) => Results.Ok(keeper.Rebuild()));
        routes.MapPost(PersistenceRoutes.Snapshot, async (LogKeeper keeper, CancellationToken ct) => Results.Ok(await keeper.SnapshotNowAsync(ct)));
        routes.MapPost(PersistenceRoutes.Rollback, RollbackAsync);
        routes.MapPost(PersistenceRoutes.Replay, ReplayAsync);
        routes.MapPost(PersistenceRoutes.Retention, async (Backups.RetentionService retention, CancellationToken ct) =>
        {
            try
            {
                return Results.Ok(await retention.RunAsync(ct));
            }
            catch (LogUnavailableException e)
            {
                return Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", e.Message);
            }
        });
        return routes;
    }

    /// <summary>Reads every record back from the state store (not this replica's memory) and checks the chain.</summary>
    private static async Task<IResult> VerifyAsync(LogStore store, Microsoft.Extensions.Options.IOptions<PersistenceOptions> options, CancellationToken ct)
    {
        var (head, _) = await store.ReadHeadAsync(ct);
        // The live store's chain starts after the archive point (retention); the archives are checked by their own verify.
        var point = await store.ReadArchivePointAsync(ct);
        var start = point is null ? LogHead.Empty : new LogHead(point.Position, point.Hash);
        var records = head.Position <= start.Position ? [] : await store.ReadRecordsAsync(start.Position + 1, head.Position, options.Value.ReadPage, ct);
        var report = ChainVerifier.Verify(records, start);
        if (report.IsValid && records.Count > 0 && !records[^1].Hash.AsSpan().SequenceEqual(head.Hash))
        {
            report = new ChainReport(false, head.Position, "the head's hash is not the last record's");
        }
        return Results.Ok(new ChainVerification(report.IsValid, records.Count, report.FirstBadPosition, report.Problem));
    }

    private static async Task<IResult> RollbackAsync(RollbackRequest? request, LogKeeper keeper, TimeProvider time, CancellationToken ct)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.By) || string.IsNullOrWhiteSpace(request.Reason) || request.By.Length > 128 || request.Reason.Length > 1024)
        {
            return Problem(StatusCodes.Status400BadRequest, "invalid", "a rollback names toPosition, by (≤ 128 characters) and reason (≤ 1,024)");
        }
        try
        {
            return Results.Ok(await keeper.RollbackAsync(new RollbackMarker(request.ToPosition, request.By, request.Reason, time.GetUtcNow()), ct));
        }
        catch (RollbackRefusedException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "invalid", e.Message);
        }
        catch (LogUnavailableException e)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", e.Message);
        }
    }

    private static async Task<IResult> ReplayAsync(ReplayRequest? request, LogKeeper keeper, DaprClient dapr, TimeProvider time, CancellationToken ct)
    {
        if (request is null || (request.StreamId is null && request.FromPosition is null)
            || request.FromPosition is < 1 || request.ToPosition is < 1 || request.FromVersion is < 1)
        {
            return Problem(StatusCodes.Status400BadRequest, "invalid", "a replay names a streamId (and fromVersion ≥ 1), or fromPosition ≥ 1 (and toPosition)");
        }
        var all = keeper.Records(1, long.MaxValue);
        var selected = request.StreamId is { } stream
            ? ReplaySelection.ByStream(all, stream, request.FromVersion ?? 1, request.IncludeRolledBack)
            : ReplaySelection.ByPosition(all, request.FromPosition!.Value, request.ToPosition ?? long.MaxValue, request.IncludeRolledBack);
        var rolledBack = request.IncludeRolledBack ? LiveSet.RolledBack(all) : [];
        var replayId = $"replay-{time.GetUtcNow():yyyyMMddHHmmssfff}-{Guid.NewGuid():N}"[..40];
        foreach (var chunk in selected.Chunk(100))
        {
            var events = chunk.Select(r => new PersistenceEventReplayed
            {
                Id = $"{replayId}:{r.Position}", OccurredAt = r.OccurredAt, StreamId = r.StreamId, Sequence = r.StreamVersion,
                ReplayId = replayId, Position = r.Position, OriginalId = r.EventId, OriginalType = r.Type, RolledBack = rolledBack.Contains(r.Position),
                Data = System.Text.Json.JsonDocument.Parse(r.Data).RootElement.Clone(),
            }).ToList();
            var response = await dapr.BulkPublishEventAsync(Components.PubSub, Topics.Replay, events, cancellationToken: ct);
            if (response.FailedEntries.Count > 0)
            {
                return Problem(StatusCodes.Status503ServiceUnavailable, "unavailable",
                    $"{response.FailedEntries.Count} events of the replay could not be published: {response.FailedEntries[0].ErrorMessage}");
            }
        }
        return Results.Ok(new ReplayResult(Topics.Replay, selected.Count, selected.Count > 0 ? selected[0].Position : 0, selected.Count > 0 ? selected[^1].Position : 0));
    }
}
