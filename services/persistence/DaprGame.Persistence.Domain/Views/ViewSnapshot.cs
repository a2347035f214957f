namespace DaprGame.Persistence.Domain.Views;

/// <summary>
/// A copy of every view at <see cref="Watermark"/>, with the content hash it had. Recovery is
/// <see cref="ViewSet.Restore"/> then <see cref="ViewSet.CatchUp"/> over the tail, which must reach the same hash as
/// <see cref="ViewSet.Rebuild"/> from position 0. The host stores it under a key of its choosing (e.g.
/// <c>views/snapshot/{watermark:D12}</c>) and checks <see cref="Hash"/> after loading it.
/// </summary>
public sealed record ViewSnapshot(long Watermark, long Skipped, IReadOnlyList<View> Views, string Hash);
