using GanService.Checkpoints;
using GanService.Evaluations;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace GanService.Events;

/// <summary>
/// Turns stored event rows into the events a stream sends, reading each one's row (the metric, checkpoint,
/// evaluation, or the job) in one query per kind for a whole batch.
/// </summary>
public sealed class JobEventReader(JobAnswers answers)
{
    /// <summary>Stored events are replayed this many at a time.</summary>
    public const int PageSize = 500;

    /// <summary>A page of replayed events; <paramref name="LastId"/> is the last row read, sent or not.</summary>
    public sealed record Page(List<(JobEvent Event, string? Owner)> Events, long LastId, bool More);

    /// <summary>
    /// Stored events after <paramref name="afterId"/> of one job, or of the jobs <paramref name="owner"/> owns
    /// (every job when <paramref name="everyOwner"/>), oldest first, at most <see cref="PageSize"/>.
    /// </summary>
    public async Task<Page> AfterAsync(
        GanDbContext db,
        Guid? jobId,
        string? owner,
        bool everyOwner,
        long afterId,
        CancellationToken ct
    )
    {
        var query = db.JobEvents.AsNoTracking().Where(e => e.Id > afterId);
        if (jobId is { } id)
            query = query.Where(e => e.JobId == id);
        else if (!everyOwner)
            query = query.Where(e => e.Owner == owner);
        var rows = await query.OrderBy(e => e.Id).Take(PageSize).ToListAsync(ct);
        return new Page(await BuildAsync(db, rows, ct), rows.Count > 0 ? rows[^1].Id : afterId, rows.Count == PageSize);
    }

    /// <summary>The events of <paramref name="rows"/>, in their order, with each job's owner.</summary>
    public async Task<List<(JobEvent Event, string? Owner)>> BuildAsync(
        GanDbContext db,
        IReadOnlyList<JobEventRecord> rows,
        CancellationToken ct
    )
    {
        if (rows.Count == 0)
            return [];
        var jobIds = rows.Select(r => r.JobId).Distinct().ToList();
        var steps = rows.Where(r => r.Step is not null).Select(r => r.Step!.Value).Distinct().ToList();
        var jobs = await db.Jobs.AsNoTracking().Where(j => jobIds.Contains(j.Id)).ToListAsync(ct);
        var answered = (await answers.AnswerAsync(db, jobs, ct)).ToDictionary(j => j.Id);
        var byId = jobs.ToDictionary(j => j.Id);
        var metrics = await Load(rows, JobEventTypes.Metric, () =>
            db.Metrics.AsNoTracking().Where(m => jobIds.Contains(m.JobId) && steps.Contains(m.Step)).ToListAsync(ct)
        );
        var checkpoints = await Load(rows, JobEventTypes.Checkpoint, () =>
            db
                .Checkpoints.AsNoTracking()
                .Where(c => jobIds.Contains(c.JobId) && steps.Contains(c.Step))
                .Select(c => new CheckpointRow(c.JobId, c.Step, c.Attempt, c.CreatedAt, c.SizeBytes, c.Sha256))
                .ToListAsync(ct)
        );
        var evaluations = await Load(rows, JobEventTypes.Evaluation, () =>
            db.Evaluations.AsNoTracking().Where(e => jobIds.Contains(e.JobId) && steps.Contains(e.Step)).ToListAsync(ct)
        );
        var events = new List<(JobEvent, string?)>(rows.Count);
        foreach (var row in rows)
        {
            // A job deleted since its event was written has nothing left to send.
            if (!byId.TryGetValue(row.JobId, out var job))
                continue;
            var e = new JobEvent(row.Id, row.JobId, row.Type, row.CreatedAt);
            long? best = job.BestStep;
            JobEvent? built = row.Type switch
            {
                JobEventTypes.Status => e with
                {
                    Status = Enum.Parse<JobStatus>(row.Status!),
                    Job = answered[row.JobId],
                },
                JobEventTypes.Metric => metrics.FirstOrDefault(m => m.JobId == row.JobId && m.Step == row.Step)
                    is { } metric
                    ? e with
                    {
                        Metric = metric.ToResponse(),
                    }
                    : null,
                JobEventTypes.Checkpoint => checkpoints.FirstOrDefault(c => c.JobId == row.JobId && c.Step == row.Step)
                    is { } c
                    ? e with
                    {
                        Checkpoint = CheckpointResponse.For(
                            c.JobId,
                            c.Step,
                            c.Attempt,
                            c.CreatedAt,
                            c.SizeBytes,
                            c.Sha256,
                            best
                        ),
                    }
                    : null,
                JobEventTypes.Evaluation => evaluations.FirstOrDefault(v =>
                    v.JobId == row.JobId && v.Step == row.Step && v.Samples == row.Samples
                )
                    is { } evaluation
                    ? e with
                    {
                        Evaluation = EvaluationResponse.From(evaluation, best, job.Spec().Evaluation?.Samples),
                    }
                    : null,
                _ => null,
            };
            if (built is not null)
                events.Add((built, job.Owner));
        }
        return events;
    }

    /// <summary>Progress events of <paramref name="jobIds"/>: each job as it stands now.</summary>
    public async Task<List<(JobEvent Event, string? Owner)>> ProgressAsync(
        GanDbContext db,
        IReadOnlyCollection<Guid> jobIds,
        CancellationToken ct
    )
    {
        var jobs = await db.Jobs.AsNoTracking().Where(j => jobIds.Contains(j.Id)).ToListAsync(ct);
        var answered = await answers.AnswerAsync(db, jobs, ct);
        return answered
            .Select(job =>
                (new JobEvent(null, job.Id, JobEventTypes.Progress, DateTimeOffset.UtcNow) { Job = job }, job.Owner)
            )
            .ToList();
    }

    private static async Task<List<T>> Load<T>(
        IReadOnlyList<JobEventRecord> rows,
        string type,
        Func<Task<List<T>>> query
    ) => rows.Any(r => r.Type == type) ? await query() : [];

    private sealed record CheckpointRow(
        Guid JobId,
        long Step,
        int Attempt,
        DateTimeOffset CreatedAt,
        long SizeBytes,
        string Sha256
    );
}
