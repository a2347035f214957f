using DaprGame.Persistence.Domain.Backup;

namespace DaprGame.Persistence.Backups;

/// <summary>
/// Writes an archive file so that it either exists whole or not at all: into <c>{name}.partial</c>, flushed to disk,
/// then renamed. Backups and retention archives share it.
/// </summary>
internal static class ArchiveFile
{
    /// <param name="overwrite">Whether an archive of the same name may be replaced (a retention run redone after a crash).</param>
    public static async Task<BackupSummary> WriteAsync(
        string folder, string name, bool overwrite, Func<Stream, Task<BackupSummary>> write, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        var partial = path + ".partial";
        BackupSummary summary;
        await using (var file = new FileStream(partial, overwrite ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            summary = await write(file);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }
        File.Move(partial, path, overwrite);
        return summary;
    }
}
