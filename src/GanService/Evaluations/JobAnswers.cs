using GanService.Jobs;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Evaluations;

/// <summary>
/// Jobs as the API answers them, with the warnings their evaluations raise and the bytes their checkpoints take: two
/// queries for a whole page of jobs.
/// </summary>
public sealed class JobAnswers(GpuWorkers gpus, IOptions<EvaluationOptions> options)
{
    public async Task<List<JobResponse>> AnswerAsync(
        GanDbContext db,
        IReadOnlyList<TrainingJob> jobs,
        CancellationToken ct
    )
    {
        var ids = jobs.Select(j => j.Id).ToList();
        var rows = await db
            .Evaluations.AsNoTracking()
            .Where(e => ids.Contains(e.JobId))
            .Where(e => e.Status == EvaluationStatus.Succeeded || e.Status == EvaluationStatus.Failed)
            .OrderBy(e => e.Step)
            .ToListAsync(ct);
        var byJob = rows.ToLookup(e => e.JobId);
        // length() of a stored bundle reads its TOAST pointer, not the bundle.
        var stored = await db
            .Checkpoints.Where(c => ids.Contains(c.JobId))
            .GroupBy(c => c.JobId)
            .Select(g => new { JobId = g.Key, Bytes = g.Sum(c => c.SizeBytes + (long)c.PreviewPng.Length) })
            .ToDictionaryAsync(s => s.JobId, s => s.Bytes, ct);
        return jobs.Select(job =>
            {
                var answer = gpus.Answer(job) with { StoredBytes = stored.GetValueOrDefault(job.Id) };
                if (job.Spec().Evaluation is not { } plan)
                    return answer;
                var own = byJob[job.Id].Where(e => e.Samples == plan.Samples).ToList();
                return answer with { Warnings = QualityAlarms.Warnings(own, plan.Patience, options.Value) };
            })
            .ToList();
    }

    public async Task<JobResponse> AnswerAsync(GanDbContext db, TrainingJob job, CancellationToken ct) =>
        (await AnswerAsync(db, [job], ct))[0];
}
