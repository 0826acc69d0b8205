using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GanService.Tests;

/// <summary>
/// The warnings and errors a test host logged, exceptions included, so a test that sees a 5xx can say what the
/// service saw: the problem document of an unhandled exception deliberately tells the client nothing, and a 503
/// names no cause.
/// </summary>
public sealed class ErrorLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> entries = new();

    public IReadOnlyCollection<string> Entries => entries;

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose() { }

    private sealed class Collector(ErrorLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            if (IsEnabled(logLevel) && log.entries.Count < 50)
                log.entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)}\n{exception}");
        }
    }
}
