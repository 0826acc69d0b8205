using GanService.Gan.Training;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace GanService.Jobs.Worker;

/// <summary>
/// Every write a running job makes to its row: starting an attempt (which takes the lease), progress, and how the
/// attempt ends. All but the start are fenced by the lease.
/// </summary>
public sealed class JobLedger(IDbContextFactory<GanDbContext> contexts)
{
    public sealed record Started(TrainingJob Job, JobLease Lease);

    /// <summary>
    /// Opens a new attempt, or finishes the job instead when it was cancelled or has crashed too often. Earlier
    /// attempts still open are marked Lost: their workers died, or are stale and will be refused at their next write
    /// (then they mark themselves Superseded). Only Lost attempts count against <paramref name="maxAttempts"/>: a
    /// graceful requeue or a take-over from a live worker is not a crash (docs/reliability.md, "Attempts").
    /// </summary>
    public async Task<Started?> StartAsync(Guid jobId, string worker, int maxAttempts, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var job = await db
            .Jobs.FromSql($"""SELECT * FROM gan.training_jobs WHERE "Id" = {jobId} FOR UPDATE""")
            .SingleOrDefaultAsync(ct);
        if (job is null || job.IsFinished)
            return null;
        var now = DateTimeOffset.UtcNow;
        var open = await db.Attempts.Where(a => a.JobId == jobId && a.EndedAt == null).ToListAsync(ct);
        MarkLost(open, now);
        int crashed =
            open.Count + await db.Attempts.CountAsync(a => a.JobId == jobId && a.Outcome == AttemptOutcome.Lost, ct);
        if (job.CancelRequested)
            Close(job, JobStatus.Cancelled, null, now);
        else if (crashed >= maxAttempts)
        {
            var last = open.OrderByDescending(a => a.Number).FirstOrDefault();
            Close(
                job,
                JobStatus.Failed,
                $"Gave up after {crashed} attempts: each one's worker stopped before finishing"
                    + (last is null ? "." : $" (the last, on {last.Worker}, at step {last.LastStep})."),
                now
            );
        }
        else
        {
            job.Attempts++;
            job.Status = JobStatus.Running;
            job.StartedAt ??= now;
            job.Worker = worker;
            db.Attempts.Add(
                new JobAttempt
                {
                    JobId = jobId,
                    Number = job.Attempts,
                    Worker = worker,
                    StartedAt = now,
                    LastStep = job.Step,
                }
            );
        }
        job.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return job.Status == JobStatus.Running ? new Started(job, new JobLease(jobId, job.Attempts)) : null;
    }

    /// <summary>
    /// A stale attempt learnt that a newer one took the job over while its worker lived (a database outage longer
    /// than the invisibility timeout does that): it was no crash, so it stops counting against the attempt limit.
    /// </summary>
    public async Task SupersededAsync(JobLease lease, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await db
            .Attempts.Where(a =>
                a.JobId == lease.JobId && a.Number == lease.Attempt && a.Outcome == AttemptOutcome.Lost
            )
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Outcome, AttemptOutcome.Superseded), ct);
    }

    /// <summary>
    /// Puts a stranded job back in its queue: one still Queued or Running, untouched since
    /// <paramref name="quietSince"/>, whose Hangfire job is still <paramref name="hangfireJobId"/> (found not alive).
    /// Rows another host is reclaiming are skipped, so many hosts can run this at once. Its open attempts are Lost
    /// (their run died with no word); the next start fails the job when that exhausts its attempts. Returns whether it
    /// requeued.
    /// </summary>
    public async Task<bool> ReclaimAsync(
        Guid jobId,
        string? hangfireJobId,
        DateTimeOffset quietSince,
        Func<string> enqueue,
        CancellationToken ct
    )
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var job = await db
            .Jobs.FromSql($"SELECT * FROM gan.training_jobs WHERE \"Id\" = {jobId} FOR UPDATE SKIP LOCKED")
            .SingleOrDefaultAsync(ct);
        if (job is null || job.IsFinished || job.UpdatedAt >= quietSince || job.HangfireJobId != hangfireJobId)
            return false;
        var now = DateTimeOffset.UtcNow;
        MarkLost(await db.Attempts.Where(a => a.JobId == jobId && a.EndedAt == null).ToListAsync(ct), now);
        job.Status = JobStatus.Queued;
        job.Worker = null;
        job.UpdatedAt = now;
        // Before the commit, as in EndAsync: the new run waits on this row's lock, then finds its attempts ended.
        job.HangfireJobId = enqueue();
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    private static void MarkLost(IEnumerable<JobAttempt> open, DateTimeOffset now)
    {
        foreach (var stale in open)
        {
            stale.EndedAt = now;
            stale.Outcome = AttemptOutcome.Lost;
        }
    }

    public async Task ResumedAsync(JobLease lease, long step, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobFence.HoldAsync(db, lease, ct);
        await db
            .Attempts.Where(a => a.JobId == lease.JobId && a.Number == lease.Attempt)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.ResumedFromStep, step), ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// Writes a batch of progress reports and returns the job's cancel flag as that write read it. One statement, so
    /// one round trip and its own transaction: the job row's update is the lease's fence (it locks the row, and matches
    /// nothing once a newer attempt owns the job), and the metric rows and the attempt's step are written only when it
    /// matched. A re-run that repeats a step overwrites its row.
    /// </summary>
    public async Task<bool> RecordAsync(JobLease lease, IReadOnlyList<TrainingProgress> reports, CancellationToken ct)
    {
        if (reports.Count == 0)
            throw new ArgumentException("Nothing to record.", nameof(reports));
        var rows = reports.GroupBy(r => r.Step).Select(g => g.Last()).ToList();
        var p = reports[^1];
        await using var db = await contexts.CreateDbContextAsync(ct);
        var read = await db
            .Database.SqlQueryRaw<bool>(
                RecordSql,
                new NpgsqlParameter<Guid>("job", lease.JobId),
                new NpgsqlParameter<int>("attempt", lease.Attempt),
                new NpgsqlParameter<DateTimeOffset>("now", DateTimeOffset.UtcNow),
                new NpgsqlParameter<long>("step", p.Step),
                new NpgsqlParameter<double>("d", p.DiscriminatorLoss),
                new NpgsqlParameter<double>("g", p.GeneratorLoss),
                new NpgsqlParameter<double>("real", p.RealScore),
                new NpgsqlParameter<double>("fake", p.FakeScore),
                new NpgsqlParameter<double>("ips", p.ImagesPerSecond),
                new NpgsqlParameter<int?>("resolution", p.Resolution) { NpgsqlDbType = NpgsqlDbType.Integer },
                new NpgsqlParameter<double?>("alpha", p.Alpha) { NpgsqlDbType = NpgsqlDbType.Double },
                new NpgsqlParameter<long[]>("steps", [.. rows.Select(r => r.Step)]),
                new NpgsqlParameter<long[]>("epochs", [.. rows.Select(r => r.Epoch)]),
                new NpgsqlParameter<double[]>("ds", [.. rows.Select(r => r.DiscriminatorLoss)]),
                new NpgsqlParameter<double[]>("gs", [.. rows.Select(r => r.GeneratorLoss)]),
                new NpgsqlParameter<double[]>("reals", [.. rows.Select(r => r.RealScore)]),
                new NpgsqlParameter<double[]>("fakes", [.. rows.Select(r => r.FakeScore)]),
                new NpgsqlParameter<double[]>("ipss", [.. rows.Select(r => r.ImagesPerSecond)]),
                new NpgsqlParameter<int?[]>("resolutions", [.. rows.Select(r => r.Resolution)])
                {
                    NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer,
                },
                new NpgsqlParameter<double?[]>("alphas", [.. rows.Select(r => r.Alpha)])
                {
                    NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double,
                }
            )
            .ToListAsync(ct);
        if (read.Count == 0)
            throw new LeaseLostException(lease);
        return read[0];
    }

    // The job update's WHERE is JobFence's condition; the sibling statements read its RETURNING row, so they write
    // nothing when the fence did not match.
    private const string RecordSql = """
        WITH job AS (
            UPDATE gan.training_jobs
            SET "Step" = @step, "DiscriminatorLoss" = @d, "GeneratorLoss" = @g, "RealScore" = @real,
                "FakeScore" = @fake, "ImagesPerSecond" = @ips, "Resolution" = @resolution, "Alpha" = @alpha,
                "UpdatedAt" = @now
            WHERE "Id" = @job AND "Attempts" = @attempt AND "Status" = 'Running'
            RETURNING "CancelRequested"
        ), metrics AS (
            INSERT INTO gan.training_metrics ("JobId", "Step", "Epoch", "DiscriminatorLoss", "GeneratorLoss",
                "RealScore", "FakeScore", "ImagesPerSecond", "Resolution", "Alpha", "RecordedAt")
            SELECT @job, r.*, @now
            FROM job, unnest(@steps, @epochs, @ds, @gs, @reals, @fakes, @ipss, @resolutions, @alphas) AS r
            ON CONFLICT ("JobId", "Step") DO UPDATE SET "Epoch" = EXCLUDED."Epoch",
                "DiscriminatorLoss" = EXCLUDED."DiscriminatorLoss", "GeneratorLoss" = EXCLUDED."GeneratorLoss",
                "RealScore" = EXCLUDED."RealScore", "FakeScore" = EXCLUDED."FakeScore",
                "ImagesPerSecond" = EXCLUDED."ImagesPerSecond", "Resolution" = EXCLUDED."Resolution",
                "Alpha" = EXCLUDED."Alpha", "RecordedAt" = EXCLUDED."RecordedAt"
        ), attempt AS (
            UPDATE gan.job_attempts SET "LastStep" = @step FROM job WHERE "JobId" = @job AND "Number" = @attempt
        )
        SELECT "CancelRequested" AS "Value" FROM job
        """;

    /// <summary>
    /// Ends the attempt. <see cref="JobStatus.Queued"/> means requeued for a graceful shutdown: the job waits for the
    /// next worker instead of showing as running on one that is gone. <paramref name="enqueue"/>, when given, puts a
    /// new Hangfire job in the queue (and returns its id) once the fence holds, for a requeue that Hangfire does not
    /// do. <paramref name="stopReason"/> says why a job ended before its last step.
    /// </summary>
    public async Task EndAsync(
        JobLease lease,
        JobStatus status,
        string? error,
        CancellationToken ct,
        Func<string>? enqueue = null,
        string? stopReason = null
    )
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobFence.HoldAsync(db, lease, ct);
        var job = await db.Jobs.SingleAsync(j => j.Id == lease.JobId, ct);
        var now = DateTimeOffset.UtcNow;
        job.StopReason = stopReason;
        if (status == JobStatus.Queued)
        {
            job.Status = JobStatus.Queued;
            job.Worker = null;
            job.UpdatedAt = now;
            // Before the commit: a new job that starts at once waits on this row's lock, then finds the attempt ended.
            if (enqueue is not null)
                job.HangfireJobId = enqueue();
        }
        else
            Close(job, status, error, now);
        await db
            .Attempts.Where(a => a.JobId == lease.JobId && a.Number == lease.Attempt)
            .ExecuteUpdateAsync(
                s =>
                    s.SetProperty(a => a.EndedAt, now)
                        .SetProperty(
                            a => a.Outcome,
                            status == JobStatus.Queued ? AttemptOutcome.Requeued : status.ToString()
                        ),
                ct
            );
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
    public const string Requeued = "Requeued",
        Lost = "Lost",
        Superseded = "Superseded";
}
