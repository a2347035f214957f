using System.Text.Json;
using Dapr.Client;
using DaprGame.Contracts;
using DaprGame.Hosting;
using DaprGame.Persistence.Domain.Log;

namespace DaprGame.Persistence.Infrastructure;

/// <summary>
/// The log in the Dapr state store (key layout: <see cref="LogKeys"/>). Every batch is one state transaction whose
/// head write carries the head's ETag, so a second writer with a stale head fails instead of forking the chain; it
/// works on every transactional store the profiles name (SQLite, Redis, PostgreSQL).
/// </summary>
public sealed class LogStore(DaprClient dapr)
{
    public const string SnapshotKey = "views/snapshot";

    /// <summary>Where the live log starts: records up to <see cref="ArchivePoint.Position"/> live in retention archives.</summary>
    public const string ArchiveKey = "archive";

    /// <summary>Events acknowledged but not yet appended because an earlier event of their stream is missing.</summary>
    public const string ParkedKey = "parked";

    private static JsonSerializerOptions Json => ServiceDefaults.JsonOptions;

    /// <summary>
    /// Waits until the sidecar answers its outbound health check (over HTTP). The app starts before or beside its sidecar;
    /// a first gRPC call to a sidecar not yet listening would put the client's channel into reconnect back-off, failing
    /// calls for seconds after the sidecar is up.
    /// </summary>
    public Task WaitForSidecarAsync(CancellationToken cancellationToken) => dapr.WaitForSidecarAsync(cancellationToken);

    public async Task<(LogHead Head, string ETag)> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var (head, etag) = await dapr.GetStateAndETagAsync<LogHead?>(Components.StateStore, LogKeys.Head, cancellationToken: cancellationToken);
        return (head ?? LogHead.Empty, etag ?? "");
    }

    /// <summary>Records <paramref name="from"/>..<paramref name="to"/> in position order; a missing one is an error (the log has a hole).</summary>
    public async Task<List<LogRecord>> ReadRecordsAsync(long from, long to, int page, CancellationToken cancellationToken)
    {
        var records = new List<LogRecord>((int)Math.Max(0, to - from + 1));
        var pages = new List<Task<IReadOnlyList<BulkStateItem>>>();
        for (var start = from; start <= to; start += page)
        {
            var end = Math.Min(to, start + page - 1);
            var keys = new List<string>((int)(end - start + 1));
            for (var p = start; p <= end; p++)
            {
                keys.Add(LogKeys.Record(p));
            }
            pages.Add(dapr.GetBulkStateAsync(Components.StateStore, keys, parallelism: 4, cancellationToken: cancellationToken));
            if (pages.Count == 4)
            {
                await DrainAsync(pages, records);
            }
        }
        await DrainAsync(pages, records);
        records.Sort(static (a, b) => a.Position.CompareTo(b.Position));
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Position != from + i)
            {
                throw new InvalidDataException($"the log has no record at position {from + i}");
            }
        }
        if (records.Count != to - from + 1)
        {
            throw new InvalidDataException($"the log has no record at position {from + records.Count}");
        }
        return records;
    }

    /// <param name="parked">The whole parked set after this batch, when it changed (one key: it is small and rarely non-empty).</param>
    public Task WriteAsync(AppendPlan plan, string headETag, IReadOnlyList<ParkedEvent>? parked, CancellationToken cancellationToken)
    {
        var operations = new List<StateTransactionRequest>(plan.Records.Count * 3 + 2);
        if (parked is not null)
        {
            operations.Add(Upsert(ParkedKey, parked));
        }
        foreach (var (key, value) in plan.Writes())
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Json);
            operations.Add(key == LogKeys.Head && headETag.Length > 0
                ? new StateTransactionRequest(key, bytes, StateOperationType.Upsert, headETag, options: new StateOptions { Concurrency = ConcurrencyMode.FirstWrite })
                : new StateTransactionRequest(key, bytes, StateOperationType.Upsert));
        }
        return dapr.ExecuteStateTransactionAsync(Components.StateStore, operations, cancellationToken: cancellationToken);
    }

    /// <summary>Writes a restored log into an empty store: records, stream heads and dedup entries in batches, the head last.</summary>
    public async Task WriteRestoredAsync(IReadOnlyList<LogRecord> records, EventLog log, int batch, CancellationToken cancellationToken)
    {
        var operations = new List<StateTransactionRequest>(batch);
        async Task FlushAsync()
        {
            if (operations.Count > 0)
            {
                await dapr.ExecuteStateTransactionAsync(Components.StateStore, operations, cancellationToken: cancellationToken);
                operations.Clear();
            }
        }
        foreach (var record in records)
        {
            operations.Add(Upsert(LogKeys.Record(record.Position), record));
            operations.Add(Upsert(LogKeys.Dedup(record.EventId), log.FindEvent(record.EventId)!));
            if (operations.Count >= batch)
            {
                await FlushAsync();
            }
        }
        foreach (var streamId in records.Select(r => r.StreamId).Distinct(StringComparer.Ordinal))
        {
            operations.Add(Upsert(LogKeys.Stream(streamId), log.FindStream(streamId)!));
            if (operations.Count >= batch)
            {
                await FlushAsync();
            }
        }
        await FlushAsync();
        await dapr.SaveStateAsync(Components.StateStore, LogKeys.Head, log.Head, cancellationToken: cancellationToken);
    }

    /// <summary>Raw bytes of one stored record's value, for tools and tamper tests.</summary>
    public async Task<LogRecord?> ReadRecordAsync(long position, CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<LogRecord?>(Components.StateStore, LogKeys.Record(position), cancellationToken: cancellationToken);

    public async Task<List<ParkedEvent>> ReadParkedAsync(CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<List<ParkedEvent>?>(Components.StateStore, ParkedKey, cancellationToken: cancellationToken) ?? [];

    public async Task<ArchivePoint?> ReadArchivePointAsync(CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<ArchivePoint?>(Components.StateStore, ArchiveKey, cancellationToken: cancellationToken);

    public Task SaveArchivePointAsync(ArchivePoint point, CancellationToken cancellationToken) =>
        dapr.SaveStateAsync(Components.StateStore, ArchiveKey, point, cancellationToken: cancellationToken);

    /// <summary>Deletes records <paramref name="from"/>..<paramref name="to"/> from the live store, in transactions of <paramref name="batch"/>.</summary>
    public async Task DeleteRecordsAsync(long from, long to, int batch, CancellationToken cancellationToken)
    {
        for (var start = from; start <= to; start += batch)
        {
            var end = Math.Min(to, start + batch - 1);
            var operations = new List<StateTransactionRequest>((int)(end - start + 1));
            for (var p = start; p <= end; p++)
            {
                operations.Add(new StateTransactionRequest(LogKeys.Record(p), null, StateOperationType.Delete));
            }
            await dapr.ExecuteStateTransactionAsync(Components.StateStore, operations, cancellationToken: cancellationToken);
        }
    }

    public Task SaveSnapshotAsync(StoredSnapshot snapshot, CancellationToken cancellationToken) =>
        dapr.SaveStateAsync(Components.StateStore, SnapshotKey, snapshot, cancellationToken: cancellationToken);

    public async Task<StoredSnapshot?> ReadSnapshotAsync(CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<StoredSnapshot?>(Components.StateStore, SnapshotKey, cancellationToken: cancellationToken);

    private static StateTransactionRequest Upsert(string key, object value) =>
        new(key, JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Json), StateOperationType.Upsert);

    private static async Task DrainAsync(List<Task<IReadOnlyList<BulkStateItem>>> pages, List<LogRecord> records)
    {
        foreach (var page in pages)
        {
            foreach (var item in await page)
            {
                if (!string.IsNullOrEmpty(item.Value))
                {
                    records.Add(JsonSerializer.Deserialize<LogRecord>(item.Value, Json)
                        ?? throw new InvalidDataException($"record {item.Key} is empty"));
                }
            }
        }
        pages.Clear();
    }
}

/// <summary>
/// The archive point (<see cref="LogStore.ArchiveKey"/>): records 1..<see cref="Position"/> were moved, in order, into
/// the retention archives <see cref="Archives"/>; <see cref="Hash"/> is the hash at <see cref="Position"/>, where the
/// live store's chain continues.
/// </summary>
public sealed record ArchivePoint(long Position, byte[] Hash, IReadOnlyList<string> Archives);

/// <summary>An event parked (acknowledged, durable, not yet in the log) since <see cref="Since"/>.</summary>
public sealed record ParkedEvent(IncomingEvent Event, DateTimeOffset Since);

/// <summary>The views snapshot as stored: the codec's bytes with the watermark and hash they claim.</summary>
public sealed record StoredSnapshot(long Watermark, string Hash, byte[] Blob);
