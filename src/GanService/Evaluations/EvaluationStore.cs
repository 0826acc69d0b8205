using GanService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace GanService.Evaluations;

/// <summary>
/// Writes evaluation rows and keeps the job's best checkpoint beside them, in one transaction, so that the job's
/// <c>best</c> never names a step whose evaluation is not stored.
/// </summary>
public sealed class EvaluationStore(IDbContextFactory<GanDbContext> contexts)
{
    /// <summary>The row for (job, step, samples), or null.</summary>
    public async Task<EvaluationRecord?> FindAsync(Guid jobId, long step, int samples, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db
            .Evaluations.AsNoTracking()
            .SingleOrDefaultAsync(e => e.JobId == jobId && e.Step == step && e.Samples == samples, ct);
    }

    /// <summary>
    /// Stores <paramref name="result"/> over any row with its key. A finished evaluation at the job's own sample
    /// count (<paramref name="jobSamples"/>) with a lower Frechet distance than the best so far becomes the best.
    /// False when the job was deleted meanwhile: there is nothing left to score.
    /// </summary>
    public async Task<bool> SaveAsync(EvaluationRecord result, int? jobSamples, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The lock a delete waits for: without it the insert below could meet a job deleted since it was read.
        var held = await db
            .Database.SqlQuery<int>(
                $"""SELECT 1 AS "Value" FROM gan.training_jobs WHERE "Id" = {result.JobId} FOR NO KEY UPDATE"""
            )
            .ToListAsync(ct);
        if (held.Count == 0)
            return false;
        var row = await db.Evaluations.SingleOrDefaultAsync(
            e => e.JobId == result.JobId && e.Step == result.Step && e.Samples == result.Samples,
            ct
        );
        if (row is null)
            db.Evaluations.Add(result);
        else
        {
            result.CreatedAt = row.CreatedAt;
            result.Requested |= row.Requested;
            result.HangfireJobId ??= row.HangfireJobId;
            db.Entry(row).CurrentValues.SetValues(result);
        }
        await db.SaveChangesAsync(ct);
        if (result is { Status: EvaluationStatus.Succeeded, Fd: { } fd } && result.Samples == jobSamples)
            await db
                .Jobs.Where(j => j.Id == result.JobId && (j.BestFd == null || fd < j.BestFd))
                .ExecuteUpdateAsync(
                    s => s.SetProperty(j => j.BestStep, result.Step).SetProperty(j => j.BestFd, fd),
                    ct
                );
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>The job's finished evaluations at <paramref name="samples"/>, in step order.</summary>
    public async Task<List<EvaluationRecord>> FinishedAsync(Guid jobId, int samples, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db
            .Evaluations.AsNoTracking()
            .Where(e => e.JobId == jobId && e.Samples == samples)
            .Where(e => e.Status == EvaluationStatus.Succeeded || e.Status == EvaluationStatus.Failed)
            .OrderBy(e => e.Step)
            .ToListAsync(ct);
    }
}
