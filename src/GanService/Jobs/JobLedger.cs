using GanService.Gan.Training;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace GanService.Jobs;

/// <summary>
/// Every write a running job makes to its row: starting an attempt (which takes the lease), progress, and how the
/// attempt ends. All but the start are fenced by the lease.
/// </summary>
public sealed class JobLedger(IDbContextFactory<GanDbContext> contexts)
{
    public sealed record Started(TrainingJob Job, JobLease Lease);

    /// <summary>
    /// Opens a new attempt, or finishes the job instead when it was cancelled or has crashed too often. Earlier
    /// attempts still open are marked Lost: their workers died, or are stale and will be refused at their next write.
    /// </summary>
    public async Task<Started?> StartAsync(Guid jobId, string worker, int maxAttempts, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var job = await db.Jobs.FromSql($"""SELECT * FROM gan.training_jobs WHERE "Id" = {jobId} FOR UPDATE""").SingleOrDefaultAsync(ct);
        if (job is null || job.IsFinished) return null;
        var now = DateTimeOffset.UtcNow;
        var open = await db.Attempts.Where(a => a.JobId == jobId && a.EndedAt == null).ToListAsync(ct);
        foreach (var stale in open)
        {
            stale.EndedAt = now;
            stale.Outcome = AttemptOutcome.Lost;
        }
        if (job.CancelRequested) Close(job, JobStatus.Cancelled, null, now);
        else if (job.Attempts >= maxAttempts)
        {
            var last = open.OrderByDescending(a => a.Number).FirstOrDefault();
            Close(job, JobStatus.Failed,
                $"Gave up after {job.Attempts} attempts: each one's worker stopped before finishing" +
                (last is null ? "." : $" (the last, on {last.Worker}, at step {last.LastStep})."), now);
        }
        else
        {
            job.Attempts++;
            job.Status = JobStatus.Running;
            job.StartedAt ??= now;
            job.Worker = worker;
            db.Attempts.Add(new JobAttempt { JobId = jobId, Number = job.Attempts, Worker = worker, StartedAt = now, LastStep = job.Step });
        }
        job.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return job.Status == JobStatus.Running ? new Started(job, new JobLease(jobId, job.Attempts)) : null;
    }

    public async Task ResumedAsync(JobLease lease, long step, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobFence.HoldAsync(db, lease, ct);
        await db.Attempts.Where(a => a.JobId == lease.JobId && a.Number == lease.Attempt)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.ResumedFromStep, step), ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>Writes a batch of progress reports in one transaction; a re-run that repeats a step overwrites its row.</summary>
    public async Task RecordAsync(JobLease lease, IReadOnlyList<TrainingProgress> reports, CancellationToken ct)
    {
        if (reports.Count == 0) return;
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobFence.HoldAsync(db, lease, ct);
        var now = DateTimeOffset.UtcNow;
        var latest = reports.DistinctBy(r => r.Step).ToList();
        var steps = latest.Select(r => r.Step).ToList();
        await db.Metrics.Where(m => m.JobId == lease.JobId && steps.Contains(m.Step)).ExecuteDeleteAsync(ct);
        db.Metrics.AddRange(latest.Select(p => new TrainingMetric
        {
            JobId = lease.JobId, Step = p.Step, Epoch = p.Epoch, DiscriminatorLoss = p.DiscriminatorLoss, GeneratorLoss = p.GeneratorLoss,
            RealScore = p.RealScore, FakeScore = p.FakeScore, ImagesPerSecond = p.ImagesPerSecond,
            Resolution = p.Resolution, Alpha = p.Alpha, RecordedAt = now,
        }));
        await db.SaveChangesAsync(ct);
        var p = reports[^1];
        await db.Jobs.Where(j => j.Id == lease.JobId).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Step, p.Step)
            .SetProperty(j => j.DiscriminatorLoss, p.DiscriminatorLoss)
            .SetProperty(j => j.GeneratorLoss, p.GeneratorLoss)
            .SetProperty(j => j.RealScore, p.RealScore)
            .SetProperty(j => j.FakeScore, p.FakeScore)
            .SetProperty(j => j.ImagesPerSecond, p.ImagesPerSecond)
            .SetProperty(j => j.Resolution, p.Resolution)
            .SetProperty(j => j.Alpha, p.Alpha)
            .SetProperty(j => j.UpdatedAt, now), ct);
        await db.Attempts.Where(a => a.JobId == lease.JobId && a.Number == lease.Attempt)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.LastStep, p.Step), ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// Ends the attempt. <see cref="JobStatus.Queued"/> means requeued for a graceful shutdown: the job waits for the
    /// next worker instead of showing as running on one that is gone.
    /// </summary>
    public async Task EndAsync(JobLease lease, JobStatus status, string? error, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobFence.HoldAsync(db, lease, ct);
        var job = await db.Jobs.SingleAsync(j => j.Id == lease.JobId, ct);
        var now = DateTimeOffset.UtcNow;
        if (status == JobStatus.Queued)
        {
            job.Status = JobStatus.Queued;
            job.Worker = null;
            job.UpdatedAt = now;
        }
        else Close(job, status, error, now);
        await db.Attempts.Where(a => a.JobId == lease.JobId && a.Number == lease.Attempt).ExecuteUpdateAsync(s => s
            .SetProperty(a => a.EndedAt, now)
            .SetProperty(a => a.Outcome, status == JobStatus.Queued ? AttemptOutcome.Requeued : status.ToString()), ct);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    private static void Close(TrainingJob job, JobStatus status, string? error, DateTimeOffset now)
    {
        job.Status = status;
        job.Error = error;
        job.FinishedAt = now;
        job.UpdatedAt = now;
    }
}

public static class AttemptOutcome
{
    public const string Requeued = "Requeued", Lost = "Lost";
}
