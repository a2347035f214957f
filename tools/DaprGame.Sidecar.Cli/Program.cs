using System.Runtime.InteropServices;
using DaprGame.Sidecar.Cli;

// Ctrl+C and SIGTERM stop the sidecar (or every app and sidecar of a run) gracefully.
using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

return await CommandLine.RunAsync(args, TextWriter.Synchronized(Console.Out), Console.Error, stop.Token);

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
