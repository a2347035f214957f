using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DaprGame.Sidecar.Launcher;

/// <summary>
/// One app's command as a child process, started as the Dapr CLI does (<c>sh -c 'exec "$@"'</c> on Unix, so the pid is
/// the command's own), with its output prefixed line by line. <see cref="Exited"/> completes with the exit code as
/// soon as the process ends, without waiting for grandchildren that may still hold its output pipes.
/// </summary>
public sealed partial class AppProcess : IDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AppProcess(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public Task<int> Exited => _exited.Task;

    public static AppProcess Start(IReadOnlyList<string> command, string workingDirectory, IReadOnlyDictionary<string, string> environment, TextWriter output, string prefix)
    {
        var info = new ProcessStartInfo
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
        };
        if (OperatingSystem.IsWindows())
        {
            info.FileName = command[0];
            for (var i = 1; i < command.Count; i++)
            {
                info.ArgumentList.Add(command[i]);
            }
        }
        else
        {
            info.FileName = "/bin/sh";
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("exec \"$@\"");
            info.ArgumentList.Add("sh");
            foreach (var arg in command)
            {
                info.ArgumentList.Add(arg);
            }
        }
        foreach (var (k, v) in environment)
        {
            info.Environment[k] = v;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var app = new AppProcess(process);
        process.OutputDataReceived += (_, e) => Write(output, prefix, e.Data);
        process.ErrorDataReceived += (_, e) => Write(output, prefix, e.Data);
        process.Exited += (_, _) => app._exited.TrySetResult(process.ExitCode);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (process.HasExited)
        {
            app._exited.TrySetResult(process.ExitCode);
        }
        return app;
    }

    private static void Write(TextWriter output, string prefix, string? line)
    {
        if (line is not null)
        {
            output.WriteLine($"{prefix} {line}");
        }
    }

    /// <summary>
    /// Asks the process to stop (SIGTERM: <c>dotnet run</c> forwards it to the app, which shuts down gracefully);
    /// kills the whole process tree when it is still running after <paramref name="grace"/>.
    /// </summary>
    public async Task StopAsync(TimeSpan grace, TimeProvider time)
    {
        if (_exited.Task.IsCompleted)
        {
            return;
        }
        if (OperatingSystem.IsWindows() || Kill(_process.Id, SigTerm) != 0)
        {
            KillTree();
        }
        try
        {
            await _exited.Task.WaitAsync(grace, time);
        }
        catch (TimeoutException)
        {
            KillTree();
            await _exited.Task.WaitAsync(grace, time);
        }
    }

    /// <summary>Kills the process and every descendant at once (what a crash or <c>kill -9</c> of the app looks like).</summary>
    public void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose() => _process.Dispose();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
