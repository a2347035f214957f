namespace DaprGame.Sidecar.State;

/// <summary>
/// The <c>cleanupInterval</c> loop of the SQL stores: deletes expired rows on a timer from the sidecar's clock.
/// Reads already hide expired rows, so a failed sweep only delays reclaiming their space.
/// </summary>
internal sealed class ExpiryCleanup : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ExpiryCleanup(TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> sweep) =>
        _loop = RunAsync(interval, time, sweep, _stop.Token);

    /// <summary>Null when <paramref name="interval"/> is not positive: cleanup disabled, Dapr's default.</summary>
    public static ExpiryCleanup? Start(TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> sweep) =>
        interval > TimeSpan.Zero ? new ExpiryCleanup(interval, time, sweep) : null;

    private static async Task RunAsync(TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> sweep, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await sweep(stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
