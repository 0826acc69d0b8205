using GanService.Hosting;
using Hangfire;
using Microsoft.Extensions.Options;

namespace GanService.Jobs;

/// <summary>
/// Whether any live worker takes the <c>gpu</c> queue, from Hangfire's own server list: a <c>cuda</c> job on a fleet
/// without one would otherwise wait Queued with no word of why. Read at most every few seconds, since every
/// <c>GET</c> of a waiting <c>cuda</c> job asks.
/// </summary>
public sealed class GpuWorkers(JobStorage storage, IOptions<GanOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(5);
    private readonly Lock gate = new();
    private (DateTimeOffset At, bool Any)? known;

    /// <summary>The job's answer, with its warning if it has one.</summary>
    public JobResponse Answer(TrainingJob job) => job.ToResponse() with { Warning = WarningFor(job) };

    /// <summary>The warning for <paramref name="job"/>, or null when it has none.</summary>
    public string? WarningFor(TrainingJob job)
    {
        var bound = options.Value.GpuWaitWarning;
        if (job.Status != JobStatus.Queued || job.Queue != JobQueues.Gpu)
            return null;
        if (clock.GetUtcNow() - job.CreatedAt < bound || AnyListening())
            return null;
        return $"No worker with a GPU (Hangfire queue '{JobQueues.Gpu}') has been seen for this job's "
            + $"{bound.TotalMinutes:0.#} min in the queue; it waits until one starts. Cancel it and submit with "
            + "device 'cpu' or 'auto' to train on a CPU worker.";
    }

    private bool AnyListening()
    {
        var now = clock.GetUtcNow();
        lock (gate)
            if (known is { } cached && now - cached.At < Fresh)
                return cached.Any;
        // Hangfire drops a server that stopped heart-beating after its server timeout, so the list is the live ones.
        bool any = storage.GetMonitoringApi().Servers().Any(s => s.Queues.Contains(JobQueues.Gpu));
        lock (gate)
            known = (now, any);
        return any;
    }
}
