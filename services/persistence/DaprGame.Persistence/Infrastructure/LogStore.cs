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
        for (var start = from; start <= to; start += page)
        {
            await ReadPageAsync(start, Math.Min(to, start + page - 1), records, cancellationToken);
        }
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

    /// <summary>
    /// One bulk get; a page whose answer is larger than a Dapr response may be (4 MB by default: events can be up to
    /// 256 KB each) is split in halves until it fits.
    /// </summary>
    private async Task ReadPageAsync(long start, long end, List<LogRecord> records, CancellationToken cancellationToken)
    {
        var keys = new List<string>((int)(end - start + 1));
        for (var p = start; p <= end; p++)
        {
            keys.Add(LogKeys.Record(p));
        }
        IReadOnlyList<BulkStateItem> items;
        try
        {
            items = await dapr.GetBulkStateAsync(Components.StateStore, keys, parallelism: 4, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (end > start && IsTooLarge(e))
        {
            var middle = start + ((end - start) / 2);
            await ReadPageAsync(start, middle, records, cancellationToken);
            await ReadPageAsync(middle + 1, end, records, cancellationToken);
            return;
        }
        foreach (var item in items)
        {
            if (!string.IsNullOrEmpty(item.Value))
            {
                records.Add(JsonSerializer.Deserialize<LogRecord>(item.Value, Json) ?? throw new InvalidDataException($"record {item.Key} is empty"));
            }
        }
    }

    private static bool IsTooLarge(Exception e) =>
        (e as Grpc.Core.RpcException ?? e.InnerException as Grpc.Core.RpcException)?.StatusCode == Grpc.Core.StatusCode.ResourceExhausted;

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

    /// <summary>
    /// Stores a snapshot in parts of <see cref="SnapshotPartBytes"/> under keys of its own watermark, then the manifest
    /// that points at them, then deletes the previous snapshot's parts. One value per snapshot would not do: Dapr's API
    /// takes at most 4 MB per request (daprd's default body and gRPC message limits), and views pass that early. A crash
    /// midway leaves the previous manifest pointing at its own, untouched parts.
    /// </summary>
    public async Task SaveSnapshotAsync(StoredSnapshot snapshot, CancellationToken cancellationToken)
    {
        var previous = await dapr.GetStateAsync<SnapshotManifest?>(Components.StateStore, SnapshotKey, cancellationToken: cancellationToken);
        var parts = (int)Math.Max(1, (snapshot.Blob.Length + SnapshotPartBytes - 1) / SnapshotPartBytes);
        for (var i = 0; i < parts; i++)
        {
            var part = snapshot.Blob.AsSpan(i * SnapshotPartBytes, Math.Min(SnapshotPartBytes, snapshot.Blob.Length - (i * SnapshotPartBytes))).ToArray();
            await dapr.SaveStateAsync(Components.StateStore, SnapshotPartKey(snapshot.Watermark, i), part, cancellationToken: cancellationToken);
        }
        await dapr.SaveStateAsync(Components.StateStore, SnapshotKey, new SnapshotManifest(snapshot.Watermark, snapshot.Hash, parts, snapshot.Blob.Length),
            cancellationToken: cancellationToken);
        if (previous is not null && previous.Watermark != snapshot.Watermark)
        {
            await dapr.ExecuteStateTransactionAsync(Components.StateStore,
                [.. Enumerable.Range(0, previous.Parts).Select(i => new StateTransactionRequest(SnapshotPartKey(previous.Watermark, i), null, StateOperationType.Delete))],
                cancellationToken: cancellationToken);
        }
    }

    /// <summary>The stored snapshot, reassembled; null when there is none or a part is missing (the caller replays the log instead).</summary>
    public async Task<StoredSnapshot?> ReadSnapshotAsync(CancellationToken cancellationToken)
    {
        var manifest = await dapr.GetStateAsync<SnapshotManifest?>(Components.StateStore, SnapshotKey, cancellationToken: cancellationToken);
        if (manifest is null)
        {
            return null;
        }
        var blob = new byte[manifest.Bytes];
        var offset = 0;
        for (var i = 0; i < manifest.Parts; i++)
        {
            var part = await dapr.GetStateAsync<byte[]?>(Components.StateStore, SnapshotPartKey(manifest.Watermark, i), cancellationToken: cancellationToken);
            if (part is null || offset + part.Length > blob.Length)
            {
                return null;
            }
            part.CopyTo(blob, offset);
            offset += part.Length;
        }
        return offset == blob.Length ? new StoredSnapshot(manifest.Watermark, manifest.Hash, blob) : null;
    }

    /// <summary>Bytes per stored snapshot part: well inside Dapr's 4 MB request limit once base64-encoded in JSON.</summary>
    public const int SnapshotPartBytes = 1 << 20;

    private static string SnapshotPartKey(long watermark, int part) => $"views/snapshot/{watermark:D12}/{part}";

    private static StateTransactionRequest Upsert(string key, object value) =>
        new(key, JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Json), StateOperationType.Upsert);

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

/// <summary>The snapshot key's value: where the parts of the current snapshot are and what they add up to.</summary>
public sealed record SnapshotManifest(long Watermark, string Hash, int Parts, int Bytes);
