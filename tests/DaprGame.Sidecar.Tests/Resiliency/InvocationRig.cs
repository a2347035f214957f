using DaprGame.Sidecar.Hosting;
using DaprGame.Sidecar.Invocation;
using DaprGame.Testing;

namespace DaprGame.Sidecar.Tests.Resiliency;

/// <summary>
/// A <see cref="FlakyApp"/> behind its sidecar (app-id <c>target</c>) and caller sidecars without apps, sharing one
/// registry and one clock. Resiliency resources go to the callers (policies apply on the caller side); a
/// Configuration (access control, tracing) can be given to each sidecar.
/// </summary>
public sealed class InvocationRig : IAsyncDisposable
{
    private readonly List<TestSidecar> _callers = [];
    private readonly List<string> _files = [];
    private readonly SidecarEnvironment _environment;

    private InvocationRig(SidecarEnvironment environment) => _environment = environment;

    public FlakyApp App { get; private set; } = null!;

    public TestSidecar Target { get; private set; } = null!;

    public TestSidecar Caller => _callers[0];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<InvocationRig> StartAsync(
        IAppRegistry registry, TimeProvider time, IReadOnlyDictionary<string, string> callerResources,
        string? targetConfiguration = null, string? callerConfiguration = null, Action<SidecarOptions>? configureTarget = null)
    {
        var rig = new InvocationRig(new SidecarEnvironment { Registry = registry, Time = time });
        try
        {
            rig.App = await FlakyApp.StartAsync();
            rig.Target = await TestSidecar.StartAsync("target", new Dictionary<string, string>(), o =>
            {
                o.AppPort = rig.App.Port;
                o.ConfigPath = rig.ConfigFile(targetConfiguration);
                configureTarget?.Invoke(o);
            }, rig._environment);
            await rig.AddCallerAsync("caller", callerResources, callerConfiguration);
            await Bounded(rig.Target.Host.Ready, "the target sidecar did not become ready (app channel)");
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
        return rig;
    }

    /// <summary>Starts another caller sidecar (another app-id) in the same registry.</summary>
    public async Task<TestSidecar> AddCallerAsync(string appId, IReadOnlyDictionary<string, string>? resources = null, string? configuration = null)
    {
        var caller = await TestSidecar.StartAsync(appId, resources ?? new Dictionary<string, string>(), o => o.ConfigPath = ConfigFile(configuration), _environment);
        _callers.Add(caller);
        await Bounded(caller.Host.Ready, $"the caller sidecar '{appId}' did not become ready");
        return caller;
    }

    /// <summary>Awaits <paramref name="task"/> for at most 30 s; the failure names what stalled.</summary>
    public static async Task Bounded(Task task, string stalled)
    {
        try
        {
            await task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"stalled: {stalled} within 30s");
        }
    }

    /// <inheritdoc cref="Bounded(Task, string)"/>
    public static async Task<T> Bounded<T>(Task<T> task, string stalled)
    {
        await Bounded((Task)task, stalled);
        return await task;
    }

    private string? ConfigFile(string? yaml)
    {
        if (yaml is null)
        {
            return null;
        }
        var file = Path.Combine(Path.GetTempPath(), $"daprgame-config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, yaml);
        _files.Add(file);
        return file;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _callers)
        {
            await c.DisposeAsync();
        }
        if (Target is not null)
        {
            await Target.DisposeAsync();
        }
        if (App is not null)
        {
            await App.DisposeAsync();
        }
        foreach (var f in _files)
        {
            File.Delete(f);
        }
    }
}
