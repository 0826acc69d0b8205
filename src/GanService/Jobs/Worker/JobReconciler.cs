using GanService.Hosting;
using GanService.Persistence;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Jobs.Worker;

/// <summary>
/// Finds jobs that no one will ever run (a row Queued or Running, quiet for <c>Gan:StrandedAfter</c>, whose Hangfire
/// job is gone, failed or finished) and puts them back in their queue. That happens when a process dies between the
/// insert and the enqueue, or when an attempt gives up on a database outage and Hangfire marks its run failed. Every
/// host runs it; the row lock makes it safe with many (docs/reliability.md, "The reconciler").
/// </summary>
public sealed class JobReconciler(
    IDbContextFactory<GanDbContext> contexts,
    JobLedger ledger,
    JobStorage storage,
    IBackgroundJobClient hangfire,
    IOptions<GanOptions> options,
    ILogger<JobReconciler> logger
) : BackgroundService
{
    private static readonly HashSet<string> Live =
    [
        EnqueuedState.StateName,
        ProcessingState.StateName,
        ScheduledState.StateName,
        AwaitingState.StateName,
    ];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReconcileInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A database outage or a Hangfire hiccup: the next pass tries again.
                logger.LogWarning(
                    e,
                    "Looking for stranded jobs failed; trying again in {Interval}.",
                    options.Value.ReconcileInterval
                );
            }
        }
    }

    /// <summary>One pass; returns how many jobs it put back in their queue.</summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        var quietSince = DateTimeOffset.UtcNow - options.Value.StrandedAfter;
        List<(Guid Id, string? HangfireJobId, string? Queue)> candidates;
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            candidates = (
                await db
                    .Jobs.AsNoTracking()
                    .Where(j =>
                        (j.Status == JobStatus.Queued || j.Status == JobStatus.Running) && j.UpdatedAt < quietSince
                    )
                    .Select(j => new
                    {
                        j.Id,
                        j.HangfireJobId,
                        j.Queue,
                    })
                    .ToListAsync(ct)
            ).Select(j => (j.Id, j.HangfireJobId, j.Queue)).ToList();
        }
        int requeued = 0;
        foreach (var (id, hangfireJobId, queue) in candidates)
        {
            if (IsAlive(hangfireJobId))
                continue;
            if (
                !await ledger.ReclaimAsync(id, hangfireJobId, quietSince, () => hangfire.EnqueueTraining(id, queue), ct)
            )
                continue;
            logger.LogWarning(
                "Job {JobId} had no live Hangfire job (was {HangfireJobId}); it is back in queue {Queue}.",
                id,
                hangfireJobId ?? "none",
                queue
            );
            requeued++;
        }
        return requeued;
    }

    private bool IsAlive(string? hangfireJobId)
    {
        if (hangfireJobId is null)
            return false;
        using var connection = storage.GetConnection();
        return connection.GetJobData(hangfireJobId)?.State is { } state && Live.Contains(state);
    }
}
