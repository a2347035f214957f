namespace DaprGame.Persistence.Domain.Retention;

/// <summary>
/// How long the live log keeps a kind of stream (stream ids starting with <see cref="StreamPrefix"/>): the newest
/// <see cref="KeepLast"/> records of each such stream, and any record younger than <see cref="KeepFor"/>; a null limit
/// keeps everything on that count.
/// </summary>
public sealed record RetentionPolicy(string StreamPrefix, int? KeepLast, TimeSpan? KeepFor);
