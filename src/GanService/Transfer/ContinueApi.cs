using GanService.Auth;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using GanService.Quotas;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Transfer;

/// <summary>
/// <c>POST /api/jobs/{id}/continue</c>: a finished run trains further as new attempts of the same job, resuming from
/// its newest checkpoint with the optimizers, RNG and data order exactly where they stopped.
/// </summary>
public static class ContinueApi
{
    public static void MapContinue(this IEndpointRouteBuilder routes) =>
        routes
            .MapPost("/api/jobs/{id:guid}/continue", Continue)
            .WithTags("Jobs")
            .RequireAuthorization()
            .RequireRateLimiting(RateLimits.Submissions)
            .WithName("ContinueJob")
            .WithSummary("Train a succeeded or cancelled job further")
            .WithDescription(
                "Trains `steps` more steps from the job's newest checkpoint, as new attempts of the same job: the "
                    + "weights, optimizer state, random generator and data order continue exactly, so a run of N steps "
                    + "continued by M equals one of N + M steps. Answers 202 with the queued job. A job that is "
                    + "queued or running (including one just continued) answers 409."
            )
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    private static async Task<Results<Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> Continue(
        Guid id,
        ContinueRequest request,
        Caller caller,
        GanDbContext db,
        IBackgroundJobClient hangfire,
        IOptions<GanOptions> options,
        IOptions<QuotaOptions> quotas,
        CancellationToken ct
    )
    {
        if (request.Steps is not { } steps || steps < 1)
            return Problems.Invalid("steps", "Required: the number of steps to train further, at least 1.");
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Locked, so a concurrent continue, cancel or delete sees this one's outcome rather than the state before it.
        var job = await db
            .Jobs.FromSql($"""SELECT * FROM gan.training_jobs WHERE "Id" = {id} FOR UPDATE""")
            .OwnedBy(caller)
            .SingleOrDefaultAsync(ct);
        if (job is null)
            return Problems.JobNotFound(id);
        if (await StorageQuota.CheckSubmitAsync(db, caller.Owner, quotas.Value, ct) is { } overQuota)
            return overQuota;
        if (job.Status is not (JobStatus.Succeeded or JobStatus.Cancelled))
            return Problems.Conflict(
                "Only a succeeded or cancelled job can continue.",
                $"Job {id} is {job.Status}."
                    + (job.IsFinished ? " A failed job's error is in its response." : " Wait until it has finished.")
            );
        long? from = await db.Checkpoints.Where(c => c.JobId == id).MaxAsync(c => (long?)c.Step, ct);
        if (from is null)
            return Problems.Conflict(
                "The job has no checkpoint to continue from.",
                $"Job {id} was cancelled before it stored a checkpoint; submit it again instead."
            );
        var spec = job.Spec();
        long total = from.Value + steps;
        if (LengthProblem(total, spec.CheckpointEvery, options.Value) is { } tooLong)
            return Problems.Invalid("steps", tooLong);

        spec = spec with { Plan = spec.Plan.Continued((int)total), ContinuedFrom = from };
        var now = DateTimeOffset.UtcNow;
        job.Recipe = JobMapping.Serialize(spec);
        job.TotalSteps = total;
        job.Status = JobStatus.Queued;
        job.CancelRequested = false;
        job.Error = null;
        job.StopReason = null;
        job.FinishedAt = null;
        job.Worker = null;
        job.UpdatedAt = now;
        // Enqueued before the commit, as a reclaim does: the run waits on this row's lock, then finds it Queued. A
        // failed enqueue rolls the whole change back.
        job.HangfireJobId = hangfire.EnqueueTraining(job);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(CancellationToken.None);
        return TypedResults.Accepted($"/api/jobs/{job.Id}", job.ToResponse());
    }

    /// <summary>The bounds a new job of this length would meet: its steps, and the checkpoints it writes.</summary>
    private static string? LengthProblem(long total, int checkpointEvery, GanOptions options)
    {
        if (total > JobRequestValidator.MaxSteps)
            return $"The job would reach step {total}; at most {JobRequestValidator.MaxSteps} are allowed.";
        long checkpoints = total / checkpointEvery;
        if (checkpoints > options.MaxCheckpointsPerJob)
            return $"With a checkpoint every {checkpointEvery} steps the job would have written {checkpoints} "
                + $"checkpoints by step {total}; at most {options.MaxCheckpointsPerJob} are allowed "
                + "(Gan:MaxCheckpointsPerJob).";
        return null;
    }
}
