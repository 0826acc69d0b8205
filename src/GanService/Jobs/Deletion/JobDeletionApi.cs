using GanService.Auth;
using GanService.Events;
using GanService.Hosting;
using GanService.Persistence;
using GanService.Retention;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Jobs.Deletion;

/// <summary>
/// <c>DELETE /api/jobs/{id}</c>: the job's row goes, and with it (by the foreign keys' cascades) its checkpoints,
/// metrics, attempts, evaluations and events; then its Hangfire job. A worker still training it finds the row gone
/// at its next fenced write or cancel poll and stops, writing nothing (docs/reliability.md, "Deleting a job").
/// </summary>
public static class JobDeletionApi
{
    public static RouteHandlerBuilder MapJobDeletion(this IEndpointRouteBuilder routes) =>
        routes
            .MapDelete("/api/jobs/{id:guid}", DeleteJob)
            .WithTags("Jobs")
            .RequireAuthorization()
            .WithName("DeleteJob")
            .WithSummary("Delete a job with its checkpoints, metrics, evaluations and events")
            .WithDescription(
                "A queued or running job is stopped: its worker stops at its next write without writing. Returns "
                    + "204; a job that does not exist (or is no longer there: a repeated delete) is a 404, as on GET."
            )
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteJob(
        Guid id,
        Caller caller,
        GanDbContext db,
        IBackgroundJobClient hangfire,
        CheckpointVacuum vacuum,
        CancellationToken ct
    )
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The lock a worker's fenced writes take: a checkpoint being stored commits first, then finds nothing to fence.
        await db.Database.ExecuteSqlAsync($"""SELECT 1 FROM gan.training_jobs WHERE "Id" = {id} FOR UPDATE""", ct);
        var job = await db
            .Jobs.OwnedBy(caller)
            .Where(j => j.Id == id)
            .Select(j => new { j.HangfireJobId, j.Owner })
            .SingleOrDefaultAsync(ct);
        if (job is null)
            return Problems.JobNotFound(id);
        // Requested evaluations waiting in Hangfire would find the job gone and do nothing; they go too.
        var evaluations = await db
            .Evaluations.Where(e => e.JobId == id && e.HangfireJobId != null)
            .Where(e => e.Status == Evaluations.EvaluationStatus.Queued)
            .Select(e => e.HangfireJobId!)
            .ToListAsync(ct);
        // A retried submission with the same key would otherwise replay a job that is gone.
        await db.IdempotencyKeys.Where(r => r.Operation == "jobs" && r.ResourceId == id).ExecuteDeleteAsync(ct);
        await db.Jobs.Where(j => j.Id == id).ExecuteDeleteAsync(ct);
        // Open streams of the job, on every host, end when this commits.
        var note = JobEventListener.DeletedNote(id, job.Owner);
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({JobEventListener.Channel}, {note})", ct);
        await transaction.CommitAsync(CancellationToken.None);
        // The row first, as in cancelling: a Hangfire job left by a crash here finds no job and does nothing.
        foreach (var hangfireJobId in evaluations.Append(job.HangfireJobId).OfType<string>())
            hangfire.Delete(hangfireJobId);
        vacuum.Request();
        return TypedResults.NoContent();
    }
}
