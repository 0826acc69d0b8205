using GanService.Auth;
using GanService.Checkpoints;
using GanService.Hosting;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Generators;

/// <summary>
/// A job's recipe as a caller may use it, and its checkpoint chosen for a sampling or translate request.
/// </summary>
public sealed record GeneratorTarget(string Recipe, bool Public, ChosenCheckpoint? Checkpoint);

/// <summary>The step and hash of the checkpoint a request uses.</summary>
public sealed record ChosenCheckpoint(long Step, string Sha256);

/// <summary>
/// How every generator endpoint finds its job and checkpoint, and the answers when there is none: the newest
/// checkpoint, or the one at <c>step</c>, of a job the caller may sample (<see cref="Ownership.SampleableBy"/>'s rule).
/// </summary>
public static class GeneratorLookup
{
    /// <summary>
    /// One round trip, compiled once: every sampling request runs it, and it reads two columns of the job rather
    /// than the whole row.
    /// </summary>
    private static readonly Func<
        GanDbContext,
        Guid,
        long?,
        bool,
        bool,
        string?,
        CancellationToken,
        Task<GeneratorTarget?>
    > Lookup = EF.CompileAsyncQuery(
        (GanDbContext db, Guid jobId, long? step, bool best, bool admin, string? owner, CancellationToken ct) =>
            db
                .Jobs.AsNoTracking()
                .Where(j => j.Id == jobId && (admin || j.Public || j.Owner == owner))
                .Select(j => new GeneratorTarget(
                    j.Recipe,
                    j.Public,
                    db.Checkpoints.Where(c =>
                            c.JobId == j.Id && (best ? c.Step == j.BestStep : step == null || c.Step == step)
                        )
                        .OrderByDescending(c => c.Step)
                        .Select(c => new ChosenCheckpoint(c.Step, c.Sha256))
                        .FirstOrDefault()
                ))
                .SingleOrDefault()
    );

    /// <summary>
    /// The job, if <paramref name="caller"/> may sample it, with its chosen checkpoint (null if none).
    /// </summary>
    public static Task<GeneratorTarget?> FindAsync(
        GanDbContext db,
        Caller caller,
        Guid jobId,
        CheckpointStep? step,
        CancellationToken ct
    ) => Lookup(db, jobId, CheckpointStep.NumberOf(step), step?.Best == true, caller.IsAdmin, caller.Owner, ct);

    /// <summary>
    /// A generator that would not load: a 404 when its checkpoint was removed meanwhile (the job deleted, or
    /// retention), so a request racing a delete never reads as damage; a 409 when it is there but damaged.
    /// </summary>
    public static async Task<ProblemHttpResult> UnloadableAsync(
        GanDbContext db,
        Guid jobId,
        long step,
        string advice,
        CancellationToken ct
    ) =>
        await db.Checkpoints.AnyAsync(c => c.JobId == jobId && c.Step == step, ct)
            ? Problems.Conflict(
                "The checkpoint is damaged.",
                $"The checkpoint of job {jobId} at step {step} fails its checksum{advice}."
            )
            : Problems.NotFound("No such checkpoint.", $"Job {jobId} no longer has a checkpoint at step {step}.");

    /// <summary>
    /// No checkpoint to use: a 409 while the job has written none yet or has no evaluated best, a 404 for a step it
    /// never wrote.
    /// </summary>
    public static ProblemHttpResult NoCheckpoint(Guid jobId, CheckpointStep? step) =>
        step switch
        {
            null => Problems.Conflict(
                "The generator has no checkpoint yet.",
                $"Job {jobId} has not written a checkpoint; try again once its first checkpoint is listed."
            ),
            { Best: true } => Problems.Conflict(
                "The job has no best checkpoint yet.",
                $"Job {jobId} has no evaluated checkpoint yet; the best is known once an evaluation at the job's "
                    + "sample count is listed under its evaluations."
            ),
            { } s => Problems.NotFound("No such checkpoint.", $"Job {jobId} has no checkpoint at step {s.Number}."),
        };
}
