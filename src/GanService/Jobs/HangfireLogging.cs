using Hangfire.AspNetCore;
using Hangfire.Logging;

namespace GanService.Jobs;

/// <summary>
/// Hangfire's log provider is one static for the whole process, set by the last host that configured Hangfire. A
/// process that runs several hosts one after another (the service tests do) would otherwise be left with a provider
/// over a disposed logger factory, and a job class first enqueued after that would fail to build its filter
/// attributes (they ask for a logger). This provider hands out a silent logger instead once its host is gone.
/// </summary>
internal sealed class HangfireLogging(ILoggerFactory factory) : ILogProvider
{
    private readonly AspNetCoreLogProvider inner = new(factory);

    public ILog GetLogger(string name)
    {
        try
        {
            return inner.GetLogger(name);
        }
        catch (ObjectDisposedException)
        {
            return Silent.Instance;
        }
    }

    private sealed class Silent : ILog
    {
        public static readonly Silent Instance = new();

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string> messageFunc, Exception exception) => false;
    }
}
