using GanService.Datasets;
using GanService.Persistence;
using Hangfire;
using GanService.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace GanService.Jobs;

public static class JobsApi
{
    public const int MaxPageSize = 100;

    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs").WithTags("Jobs");
        group.MapPost("/", CreateJob).WithName("CreateJob")
            .WithSummary("Submit a training job")
            .WithDescription("Validates the recipe, stores the job as Queued and enqueues it for a worker. Returns 202 with a Location header.");
        group.MapGet("/", ListJobs).WithName("ListJobs").WithSummary("List jobs, newest first, optionally by status");
        group.MapGet("/{id:guid}", GetJob).ProducesProblem(StatusCodes.Status404NotFound).WithName("GetJob").WithSummary("A job's status, progress, ETA and latest losses");
        group.MapGet("/{id:guid}/metrics", GetMetrics).ProducesProblem(StatusCodes.Status404NotFound).WithName("GetJobMetrics").WithSummary("The loss history of a job");
        group.MapGet("/{id:guid}/attempts", GetAttempts).ProducesProblem(StatusCodes.Status404NotFound).WithName("GetJobAttempts")
            .WithSummary("Each start of the job on a worker: where it resumed, how far it got, how it ended");
        group.MapPost("/{id:guid}/cancel", CancelJob).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).WithName("CancelJob")
            .WithSummary("Cancel a job")
            .WithDescription("A queued job is cancelled at once; a running one stops within a step and a second, keeping a final checkpoint.");
        return group;
    }

    private static async Task<Results<Accepted<JobResponse>, ValidationProblem>> CreateJob(
        CreateJobRequest request, JobRequestValidator validator, DatasetCatalog catalog, GanDbContext db, IBackgroundJobClient hangfire, CancellationToken ct)
    {
        var uploaded = Guid.TryParse(request.Dataset?.Trim(), out var datasetId)
            ? await db.Datasets.AsNoTracking().Where(d => d.Id == datasetId)
                .Select(d => new Dataset { Id = d.Id, Name = d.Name, Format = d.Format, Kind = d.Kind, ItemCount = d.ItemCount, Sha256 = d.Sha256, Classes = d.Classes, Bytes = Array.Empty<byte>() })
                .SingleOrDefaultAsync(ct)
            : null;
        var (spec, errors) = validator.Validate(request, uploaded);
        if (spec is null) return TypedResults.ValidationProblem(errors, title: "The job request is invalid.");
        var now = DateTimeOffset.UtcNow;
        var job = new TrainingJob
        {
            Id = Guid.CreateVersion7(), Name = spec.Name, Status = JobStatus.Queued, Recipe = JobMapping.Serialize(spec),
            Dataset = spec.Dataset, DatasetSha256 = uploaded?.Sha256 ?? catalog.Sha256(spec.Dataset), Seed = spec.Seed, TotalSteps = spec.Steps, Device = spec.Device,
            Queue = JobQueues.For(spec.Device), CreatedAt = now, UpdatedAt = now,
        };
        db.Jobs.Add(job);
        await db.SaveChangesAsync(ct);
        try
        {
            job.HangfireJobId = hangfire.Enqueue<TrainJob>(job.Queue, j => j.Run(job.Id, CancellationToken.None));
        }
        catch
        {
            // Nothing half written: a job no worker will ever see is removed again.
            db.Jobs.Remove(job);
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/api/jobs/{job.Id}", job.ToResponse());
    }

    private static async Task<Results<Ok<PagedList<JobResponse>>, ValidationProblem>> ListJobs(
        GanDbContext db, CancellationToken ct, [FromQuery] string? status = null, [FromQuery] int page = 1, [FromQuery] int pageSize = 20)
    {
        var errors = new Dictionary<string, string[]>();
        JobStatus parsed = default;
        if (status is not null && (int.TryParse(status, out _) || !Enum.TryParse(status, ignoreCase: true, out parsed)))
            errors["status"] = [$"Unknown status '{status}'. Use one of {string.Join(", ", Enum.GetNames<JobStatus>())}."];
        if (page < 1) errors["page"] = ["Pages start at 1."];
        if (pageSize is < 1 or > MaxPageSize) errors["pageSize"] = [$"Must be between 1 and {MaxPageSize}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var query = db.Jobs.AsNoTracking();
        if (status is not null) query = query.Where(j => j.Status == parsed);
        int total = await query.CountAsync(ct);
        var jobs = await query.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return TypedResults.Ok(new PagedList<JobResponse>(jobs.Select(j => j.ToResponse()).ToList(), page, pageSize, total));
    }

    private static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> GetJob(Guid id, GanDbContext db, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, ct);
        return job is null ? Problems.JobNotFound(id) : TypedResults.Ok(job.ToResponse());
    }

    private static async Task<Results<Ok<IReadOnlyList<MetricResponse>>, ProblemHttpResult>> GetMetrics(
        Guid id, GanDbContext db, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == id, ct)) return Problems.JobNotFound(id);
        var metrics = await db.Metrics.AsNoTracking().Where(m => m.JobId == id).OrderBy(m => m.Step).ToListAsync(ct);
        return TypedResults.Ok<IReadOnlyList<MetricResponse>>(metrics.Select(m => m.ToResponse()).ToList());
    }

    private static async Task<Results<Ok<IReadOnlyList<AttemptResponse>>, ProblemHttpResult>> GetAttempts(
        Guid id, GanDbContext db, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == id, ct)) return Problems.JobNotFound(id);
        var attempts = await db.Attempts.AsNoTracking().Where(a => a.JobId == id).OrderBy(a => a.Number).ToListAsync(ct);
        return TypedResults.Ok<IReadOnlyList<AttemptResponse>>(attempts.Select((a, i) => new AttemptResponse(
            a.Number, a.Worker, a.StartedAt, a.EndedAt, a.Outcome, a.ResumedFromStep, a.LastStep,
            i > 0 && a.ResumedFromStep is { } from ? Math.Max(0, attempts[i - 1].LastStep - from) : 0)).ToList());
    }

    private static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> CancelJob(
        Guid id, GanDbContext db, IBackgroundJobClient hangfire, CancellationToken ct)
    {
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == id, ct);
        if (job is null) return Problems.JobNotFound(id);
        if (job.IsFinished)
            return Problems.Conflict("The job has already finished.", $"Job {id} is {job.Status}; only queued or running jobs can be cancelled.");
        job.CancelRequested = true;
        job.UpdatedAt = DateTimeOffset.UtcNow;
        if (job.Status == JobStatus.Queued)
        {
            job.Status = JobStatus.Cancelled;
            job.FinishedAt = job.UpdatedAt;
            if (job.HangfireJobId is not null) hangfire.Delete(job.HangfireJobId);
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(job.ToResponse());
    }

}
