using GanService.Auth;
using GanService.Checkpoints;
using GanService.Generators;
using GanService.Hosting;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Retention;

/// <summary>Pinning a checkpoint, which keeps it whatever the job's <c>checkpoints.keep</c> says.</summary>
public static class PinsApi
{
    public static RouteGroupBuilder MapPins(this IEndpointRouteBuilder routes)
    {
        var group = routes
            .MapGroup("/api/jobs/{id:guid}/checkpoints/{step}/pin")
            .WithTags("Checkpoints")
            .RequireAuthorization();
        group
            .MapPost("/", Pin)
            .WithName("PinCheckpoint")
            .WithSummary("Pin a checkpoint: retention (checkpoints.keep) never removes it")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group
            .MapDelete("/", Unpin)
            .WithName("UnpinCheckpoint")
            .WithSummary("Unpin a checkpoint: retention may remove it now if it is not among the newest kept")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static Task<Results<NoContent, ProblemHttpResult>> Pin(
        Guid id,
        CheckpointStep step,
        Caller caller,
        GanDbContext db,
        CancellationToken ct
    ) => SetPinnedAsync(db, caller, id, step, pinned: true, ct);

    /// <summary>
    /// Applies retention at once: a finished job writes no more checkpoints, so nothing else would remove the
    /// checkpoint the pin kept.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> Unpin(
        Guid id,
        CheckpointStep step,
        Caller caller,
        GanDbContext db,
        CheckpointVacuum vacuum,
        CancellationToken ct
    )
    {
        var answer = await SetPinnedAsync(db, caller, id, step, pinned: false, ct);
        if (answer.Result is NoContent && await CheckpointRetention.PruneAsync(db, id, incoming: 0, ct) > 0)
            vacuum.Request();
        return answer;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> SetPinnedAsync(
        GanDbContext db,
        Caller caller,
        Guid id,
        CheckpointStep step,
        bool pinned,
        CancellationToken ct
    )
    {
        var job = await db
            .Jobs.OwnedBy(caller)
            .Where(j => j.Id == id)
            .Select(j => new { j.BestStep })
            .SingleOrDefaultAsync(ct);
        if (job is null)
            return Problems.JobNotFound(id);
        var number = step.Best ? job.BestStep : step.Number;
        int changed = await db
            .Checkpoints.Where(c => c.JobId == id && c.Step == number)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Pinned, pinned), ct);
        return changed == 0 ? GeneratorLookup.NoCheckpoint(id, step) : TypedResults.NoContent();
    }
}
