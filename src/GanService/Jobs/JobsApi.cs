using GanService.Auth;
using GanService.Hosting;
using GanService.Persistence;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace GanService.Jobs;

/// <summary>
/// The job endpoints: their routes, the reads and the changes; submission is in <c>JobsApi.Submit.cs</c>.
/// </summary>
public static partial class JobsApi
{
    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs").WithTags("Jobs").RequireAuthorization();
        group
            .MapPost("/", CreateJob)
            .WithName("CreateJob")
            .RequireRateLimiting(RateLimits.Submissions)
            .WithSummary("Submit a training job")
            .WithDescription(
                "Validates the recipe, stores the job as Queued and enqueues it for a worker. Returns 202 with a "
                    + "Location header. "
                    + "With an Idempotency-Key header a retried request returns the job the first one created."
            )
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        group
            .MapGet("/", ListJobs)
            .WithName("ListJobs")
            .WithSummary("List your jobs, newest first, optionally by status");
        group
            .MapGet("/{id:guid}", GetJob)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetJob")
            .WithSummary("A job's status, progress, ETA and latest losses");
        group
            .MapGet("/{id:guid}/metrics", GetMetrics)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetJobMetrics")
            .WithSummary("The loss history of a job, oldest first, a page at a time (X-Total-Count, Link: next)");
        group
            .MapGet("/{id:guid}/attempts", GetAttempts)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetJobAttempts")
            .WithSummary("Each start of the job on a worker: where it resumed, how far it got, how it ended");
        group
            .MapPut("/{id:guid}/visibility", SetVisibility)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("SetJobVisibility")
            .WithSummary("Make the job's generator public (samples fetchable without a key) or private again");
        group
            .MapPost("/{id:guid}/cancel", CancelJob)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("CancelJob")
            .WithSummary("Cancel a job")
            .WithDescription(
                "A queued job is cancelled at once; a running one stops within a step and a second, keeping a final "
                    + "checkpoint."
            );
        return group;
    }

    private static async Task<Results<Ok<PagedList<JobResponse>>, ValidationProblem>> ListJobs(
        Caller caller,
        GanDbContext db,
        Evaluations.JobAnswers answers,
        CancellationToken ct,
        [FromQuery] string? status = null,
        [FromQuery] int page = 1,
        [FromQuery] int pageSize = 20
    )
    {
        var errors = new Dictionary<string, string[]>();
        JobStatus parsed = default;
        if (status is not null && (int.TryParse(status, out _) || !Enum.TryParse(status, ignoreCase: true, out parsed)))
            errors["status"] =
            [
                $"Unknown status '{status}'. Use one of {string.Join(", ", Enum.GetNames<JobStatus>())}.",
            ];
        InputRules.CheckPage(page, pageSize, errors);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var query = db.Jobs.AsNoTracking().OwnedBy(caller);
        if (status is not null)
            query = query.Where(j => j.Status == parsed);
        int total = await query.CountAsync(ct);
        var jobs = await query
            .OrderByDescending(j => j.CreatedAt)
            .ThenByDescending(j => j.Id)
            .Skip((page - 1) * pageSize)
            .Take(pageSize)
            .ToListAsync(ct);
        return TypedResults.Ok(
            new PagedList<JobResponse>(await answers.AnswerAsync(db, jobs, ct), page, pageSize, total)
        );
    }

    private static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> GetJob(
        Guid id,
        Caller caller,
        GanDbContext db,
        Evaluations.JobAnswers answers,
        CancellationToken ct
    )
    {
        var job = await db.Jobs.AsNoTracking().OwnedBy(caller).SingleOrDefaultAsync(j => j.Id == id, ct);
        return job is null ? Problems.JobNotFound(id) : TypedResults.Ok(await answers.AnswerAsync(db, job, ct));
    }

    /// <summary>Metric rows per page: a long run has a million of them, so they are never read all at once.</summary>
    public const int MaxMetricsPage = 1000;

    private static async Task<
        Results<Ok<IReadOnlyList<MetricResponse>>, ValidationProblem, ProblemHttpResult>
    > GetMetrics(
        Guid id,
        Caller caller,
        GanDbContext db,
        HttpContext http,
        CancellationToken ct,
        [FromQuery] int page = 1,
        [FromQuery] int pageSize = MaxMetricsPage
    )
    {
        if (InputRules.PageProblem(page, pageSize, MaxMetricsPage) is { } badPage)
            return badPage;
        if (!await db.Jobs.OwnedBy(caller).AnyAsync(j => j.Id == id, ct))
            return Problems.JobNotFound(id);
        var metrics = await db
            .Metrics.AsNoTracking()
            .Where(m => m.JobId == id)
            .OrderBy(m => m.Step)
            .PageAsync(http, page, pageSize, ct);
        return TypedResults.Ok<IReadOnlyList<MetricResponse>>(metrics.Select(m => m.ToResponse()).ToList());
    }

    private static async Task<Results<Ok<IReadOnlyList<AttemptResponse>>, ProblemHttpResult>> GetAttempts(
        Guid id,
        Caller caller,
        GanDbContext db,
        CancellationToken ct
    )
    {
        if (!await db.Jobs.OwnedBy(caller).AnyAsync(j => j.Id == id, ct))
            return Problems.JobNotFound(id);
        var attempts = await db
            .Attempts.AsNoTracking()
            .Where(a => a.JobId == id)
            .OrderBy(a => a.Number)
            .ToListAsync(ct);
        return TypedResults.Ok<IReadOnlyList<AttemptResponse>>(
            attempts
                .Select(
                    (a, i) =>
                        new AttemptResponse(
                            a.Number,
                            a.Worker,
                            a.StartedAt,
                            a.EndedAt,
                            a.Outcome,
                            a.ResumedFromStep,
                            a.LastStep,
                            i > 0 && a.ResumedFromStep is { } from ? Math.Max(0, attempts[i - 1].LastStep - from) : 0
                        )
                )
                .ToList()
        );
    }

    private static async Task<Results<Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> SetVisibility(
        Guid id,
        VisibilityRequest request,
        Caller caller,
        GanDbContext db,
        CancellationToken ct
    )
    {
        if (request.Public is not { } visible)
            return Problems.Invalid("public", "Required: true or false.");
        var job = await db.Jobs.OwnedBy(caller).SingleOrDefaultAsync(j => j.Id == id, ct);
        if (job is null)
            return Problems.JobNotFound(id);
        job.Public = visible;
        job.UpdatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(job.ToResponse());
    }

    private static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> CancelJob(
        Guid id,
        Caller caller,
        GanDbContext db,
        IBackgroundJobClient hangfire,
        CancellationToken ct
    )
    {
        var job = await db.Jobs.OwnedBy(caller).SingleOrDefaultAsync(j => j.Id == id, ct);
        if (job is null)
            return Problems.JobNotFound(id);
        if (job.IsFinished)
            return Problems.Conflict(
                "The job has already finished.",
                $"Job {id} is {job.Status}; only queued or running jobs can be cancelled."
            );
        job.CancelRequested = true;
        job.UpdatedAt = DateTimeOffset.UtcNow;
        bool queued = job.Status == JobStatus.Queued;
        if (queued)
        {
            job.Status = JobStatus.Cancelled;
            job.FinishedAt = job.UpdatedAt;
        }
        await db.SaveChangesAsync(ct);
        // The row first: a crash in between leaves a Hangfire job whose run finds the job finished and does nothing,
        // where the other order left a job Queued with nothing to run it.
        if (queued && job.HangfireJobId is not null)
            hangfire.Delete(job.HangfireJobId);
        return TypedResults.Ok(job.ToResponse());
    }
}
