using System.Text.Json;
using DaprGame.Sidecar.Hosting;

namespace DaprGame.Sidecar.Invocation;

/// <summary>
/// A registry in a folder, so sidecars started as separate processes find each other (daprd uses mDNS for this).
/// Each instance writes one small JSON file; readers cache a listing for <see cref="CacheFor"/> to keep file I/O off
/// the request path, and skip files whose process is gone (a killed sidecar cannot remove its own file).
/// </summary>
public sealed class FileAppRegistry : IAppRegistry
{
    /// <summary>Environment variable that overrides the registry folder.</summary>
    public const string FolderVariable = "DAPRGAME_REGISTRY_DIR";

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private readonly string _folder;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Dictionary<string, Listing> _cache = new(StringComparer.Ordinal);

    public FileAppRegistry(string folder, TimeProvider? time = null)
    {
        _folder = folder;
        _time = time ?? TimeProvider.System;
        ActorPlacement = new Actors.FileActorPlacement(Path.Combine(folder, "placement"), _time);
    }

    /// <summary>Placement files live in the <c>placement</c> subfolder, beside the app registrations.</summary>
    public Actors.IActorPlacement ActorPlacement { get; }

    public string Folder => _folder;

    /// <summary>The folder from <c>DAPRGAME_REGISTRY_DIR</c>, else <c>daprgame-&lt;user&gt;/registry</c> under the temp folder.</summary>
    public static string DefaultFolder() =>
        Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } dir
            ? dir
            : Path.Combine(Path.GetTempPath(), $"daprgame-{Environment.UserName}", "registry");

    public async ValueTask<IAsyncDisposable> RegisterAsync(AppEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(_folder);
        }
        else
        {
            // The files carry each instance's internal key: only the user may read them.
            Directory.CreateDirectory(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var file = Path.Combine(_folder, $"{endpoint.AppId}.{endpoint.InstanceId}.json");
        var temp = file + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(endpoint), cancellationToken);
        File.Move(temp, file, overwrite: true);
        lock (_gate)
        {
            _cache = new(StringComparer.Ordinal);
        }
        return new Registration(file);
    }

    public ValueTask<AppEndpoint?> ResolveAsync(string appId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        Listing? listing;
        lock (_gate)
        {
            _cache.TryGetValue(appId, out listing);
        }
        if (listing is null || now - listing.ReadAt > CacheFor)
        {
            listing = new Listing(Read(appId), now, listing?.Cursor ?? -1);
            lock (_gate)
            {
                _cache[appId] = listing;
            }
        }
        return ValueTask.FromResult(listing.Next());
    }

    private List<AppEndpoint> Read(string appId)
    {
        var found = new List<AppEndpoint>();
        if (!Directory.Exists(_folder))
        {
            return found;
        }
        foreach (var file in Directory.EnumerateFiles(_folder, $"{appId}.*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize<AppEndpoint>(File.ReadAllText(file)) is { } e && e.AppId == appId && LoopbackHttp.IsProcessAlive(e.ProcessId))
                {
                    found.Add(e);
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                // Being written or removed right now: the next listing sees it settled.
            }
        }
        found.Sort((a, b) => string.CompareOrdinal(a.InstanceId, b.InstanceId));
        return found;
    }


    /// <summary>One read of the folder; the round-robin cursor carries over from the previous listing.</summary>
    private sealed class Listing(List<AppEndpoint> instances, DateTimeOffset readAt, int cursor)
    {
        private int _cursor = cursor;

        public int Cursor => Volatile.Read(ref _cursor);

        public DateTimeOffset ReadAt { get; } = readAt;

        public AppEndpoint? Next()
        {
            if (instances.Count == 0)
            {
                return null;
            }
            var i = (uint)Interlocked.Increment(ref _cursor);
            return instances[(int)(i % (uint)instances.Count)];
        }
    }

    private sealed class Registration(string file) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Readers skip entries of dead processes anyway.
            }
            return ValueTask.CompletedTask;
        }
    }
}
