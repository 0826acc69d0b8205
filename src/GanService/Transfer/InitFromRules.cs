using GanService.Auth;
using GanService.Gan.Training;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace GanService.Transfer;

/// <summary>
/// Checks a new job's <c>initFrom</c> against the job it names: the caller may see it, the checkpoint exists, and the
/// networks have the same shape, so the weights fit. Each differing field is reported under its own request path.
/// </summary>
public static class InitFromRules
{
    public static async Task<InitFromPlan?> ResolveAsync(
        InitFromRequest request,
        TrainingPlan plan,
        Caller caller,
        GanDbContext db,
        Action<string, string> fail,
        CancellationToken ct
    )
    {
        if (request.Job is not { } sourceId)
        {
            fail("initFrom.job", "Required: the id of the job whose weights to start from.");
            return null;
        }
        var source = await db
            .Jobs.AsNoTracking()
            .OwnedBy(caller)
            .Where(j => j.Id == sourceId)
            .Select(j => new { j.Id, j.Recipe })
            .SingleOrDefaultAsync(ct);
        if (source is null)
        {
            fail("initFrom.job", $"You have no job with id {sourceId}.");
            return null;
        }
        var steps = db.Checkpoints.Where(c => c.JobId == sourceId).Select(c => c.Step);
        long? step = request.Step is { } asked
            ? await steps.AnyAsync(s => s == asked, ct)
                ? asked
                : null
            : await steps.OrderByDescending(s => s).Select(s => (long?)s).FirstOrDefaultAsync(ct);
        if (step is null)
        {
            fail(
                "initFrom.step",
                request.Step is { } missing
                    ? $"Job {sourceId} has no checkpoint at step {missing}."
                    : $"Job {sourceId} has no checkpoint yet."
            );
            return null;
        }
        var theirs = JobMapping.Spec(source.Id, source.Recipe).Plan.Model;
        var differences = plan.Model.ArchitectureDifferences(theirs).ToList();
        foreach (var (field, mine, other) in differences)
            fail(
                field,
                field == "dataset"
                    ? $"This dataset has {mine} classes and job {sourceId}'s had {other}: initFrom needs the same."
                    : $"Job {sourceId} was trained with {field} {other}, this job asks for {mine}: initFrom needs the "
                        + "same networks."
            );
        return differences.Count == 0 ? new InitFromPlan(sourceId, step.Value) : null;
    }
}
