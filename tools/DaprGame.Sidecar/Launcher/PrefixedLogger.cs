using Microsoft.Extensions.Logging;

namespace DaprGame.Sidecar.Launcher;

/// <summary>
/// Console-style logging where every line starts with a fixed prefix (<c>== DAPR - gateway ==</c>), as the Dapr CLI
/// prefixes the output of each app and sidecar in a multi-app run. The writer must be thread-safe.
/// </summary>
public sealed class PrefixedLoggerProvider(TextWriter output, string prefix, LogLevel minimum) : ILoggerProvider
{
    /// <summary>daprd's <c>--log-level</c> values.</summary>
    public static LogLevel ParseLevel(string level) => level.ToLowerInvariant() switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" or "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "fatal" => LogLevel.Critical,
        _ => throw new ArgumentException($"log level '{level}' is not one of debug, info, warn, error, fatal"),
    };

    /// <summary>A logger factory writing through this provider only.</summary>
    public static ILoggerFactory CreateFactory(TextWriter output, string prefix, LogLevel minimum) =>
        LoggerFactory.Create(b => b.ClearProviders()
            .SetMinimumLevel(minimum)
            // daprd does not log every request at info; ASP.NET Core's per-request lines appear only at debug.
            .AddFilter("Microsoft", minimum <= LogLevel.Debug ? minimum : LogLevel.Warning)
            .AddProvider(new PrefixedLoggerProvider(output, prefix, minimum)));

    public ILogger CreateLogger(string categoryName) => new Logger(output, prefix, minimum, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriter output, string prefix, LogLevel minimum, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var level = logLevel switch
            {
                LogLevel.Trace or LogLevel.Debug => "debug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "error",
                _ => "fatal",
            };
            var message = formatter(state, exception);
            if (exception is not null)
            {
                message = $"{message}: {exception.Message}";
            }
            output.WriteLine($"{prefix}{(prefix.Length == 0 ? "" : " ")}level={level} scope={category} msg=\"{message.ReplaceLineEndings(" ")}\"");
        }
    }
}
