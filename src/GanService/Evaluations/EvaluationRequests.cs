using GanService.Jobs;
using GanService.Persistence;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace GanService.Evaluations;

/// <summary>
/// Queues an evaluation once per (job, step, samples): the row is the request's identity, so concurrent or repeated
/// requests find it rather than queueing a second run.
/// </summary>
public static class EvaluationRequests
{
    public static async Task<EvaluationRecord> QueueAsync(
        GanDbContext db,
        IBackgroundJobClient hangfire,
        TrainingJob job,
        long step,
        int samples,
        CancellationToken ct
    )
    {
        var row = await FindAsync(db, job.Id, step, samples, ct);
        if (row is null)
        {
            row = new EvaluationRecord
            {
                JobId = job.Id,
                Step = step,
                Samples = samples,
                Status = EvaluationStatus.Queued,
                Requested = true,
                Network = Gan.Quality.FeatureNetwork.Name,
                Side = Gan.Quality.FeatureNetwork.DefaultSide,
                CreatedAt = DateTimeOffset.UtcNow,
            };
            db.Evaluations.Add(row);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (UniqueViolation.Is(e))
            {
                db.ChangeTracker.Clear();
                return (await FindAsync(db, job.Id, step, samples, ct))!;
            }
        }
        else if (row.Status == EvaluationStatus.Failed)
        {
            row.Status = EvaluationStatus.Queued;
            row.Error = null;
            row.HangfireJobId = null;
            row.Requested = true;
            await db.SaveChangesAsync(ct);
        }
        else if (row.Status != EvaluationStatus.Queued || row.HangfireJobId is not null)
            return row;
        // After the row is stored: a run that starts at once finds it. A crash between the two leaves a queued row
        // without a Hangfire job, which the next identical request queues.
        // Only the Hangfire id is written after the enqueue, so a run that already started keeps its status.
        var hangfireId = hangfire.Enqueue<EvaluationRun>(job.Queue ?? JobQueues.For(job.Device), run =>
            run.Run(job.Id, step, samples, CancellationToken.None)
        );
        await db
            .Evaluations.Where(e => e.JobId == job.Id && e.Step == step && e.Samples == samples)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.HangfireJobId, hangfireId), ct);
        row.HangfireJobId = hangfireId;
        return row;
    }

    private static Task<EvaluationRecord?> FindAsync(
        GanDbContext db,
        Guid jobId,
        long step,
        int samples,
        CancellationToken ct
    ) => db.Evaluations.SingleOrDefaultAsync(e => e.JobId == jobId && e.Step == step && e.Samples == samples, ct);
}
