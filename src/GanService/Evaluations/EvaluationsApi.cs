using GanService.Auth;
using GanService.Checkpoints;
using GanService.Generators;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Evaluations;

/// <summary>A job's evaluations, and evaluating a checkpoint on request.</summary>
public static class EvaluationsApi
{
    public const int MaxPage = 1000;

    public static RouteGroupBuilder MapEvaluations(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs/{id:guid}").WithTags("Evaluations").RequireAuthorization();
        group
            .MapGet("/evaluations", List)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListEvaluations")
            .WithSummary("A job's evaluations in step order: fd_resnet18, KID, precision, recall (X-Total-Count)");
        group
            .MapPost("/checkpoints/{step}/evaluation", Request)
            .RequireRateLimiting(RateLimits.Submissions)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("EvaluateCheckpoint")
            .WithSummary("Score a checkpoint (a step or best) on a number of samples")
            .WithDescription(
                "Queues the evaluation for a worker and answers 202 with a Location to poll; an evaluation already "
                    + "stored answers 200. Repeating the request starts nothing new; a failed one is queued again."
            );
        group
            .MapGet("/checkpoints/{step}/evaluation", Get)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetEvaluation")
            .WithSummary("One evaluation of a checkpoint, by its sample count (default the job's)");
        return group;
    }

    private static async Task<
        Results<Ok<IReadOnlyList<EvaluationResponse>>, ValidationProblem, ProblemHttpResult>
    > List(
        Guid id,
        Caller caller,
        GanDbContext db,
        HttpContext http,
        CancellationToken ct,
        [FromQuery] int page = 1,
        [FromQuery] int pageSize = MaxPage
    )
    {
        if (InputRules.PageProblem(page, pageSize, MaxPage) is { } badPage)
            return badPage;
        var job = await FindJobAsync(db, caller, id, ct);
        if (job is null)
            return Problems.JobNotFound(id);
        var rows = await db
            .Evaluations.AsNoTracking()
            .Where(e => e.JobId == id)
            .OrderBy(e => e.Step)
            .ThenBy(e => e.Samples)
            .PageAsync(http, page, pageSize, ct);
        var samples = job.Spec().Evaluation?.Samples;
        return TypedResults.Ok<IReadOnlyList<EvaluationResponse>>(
            rows.Select(e => EvaluationResponse.From(e, job.BestStep, samples)).ToList()
        );
    }

    private static async Task<Results<Ok<EvaluationResponse>, ValidationProblem, ProblemHttpResult>> Get(
        Guid id,
        CheckpointStep step,
        Caller caller,
        GanDbContext db,
        CancellationToken ct,
        [FromQuery] int? samples = null
    )
    {
        var job = await FindJobAsync(db, caller, id, ct);
        if (job is null)
            return Problems.JobNotFound(id);
        var count = samples ?? job.Spec().Evaluation?.Samples ?? EvaluationPlan.DefaultSamples(job.Spec().Plan.Model);
        var number = step.Best ? job.BestStep : step.Number;
        var row = await db
            .Evaluations.AsNoTracking()
            .SingleOrDefaultAsync(e => e.JobId == id && e.Step == number && e.Samples == count, ct);
        return row is null
            ? Problems.NotFound(
                "No such evaluation.",
                $"Job {id} has no evaluation of step {step} on {count} samples; POST to this URL to request one."
            )
            : TypedResults.Ok(EvaluationResponse.From(row, job.BestStep, job.Spec().Evaluation?.Samples));
    }

    private static async Task<
        Results<Ok<EvaluationResponse>, Accepted<EvaluationResponse>, ValidationProblem, ProblemHttpResult>
    > Request(
        Guid id,
        CheckpointStep step,
        [FromBody] EvaluateRequest? request,
        Caller caller,
        GanDbContext db,
        IBackgroundJobClient hangfire,
        IOptions<EvaluationOptions> options,
        CancellationToken ct
    )
    {
        var job = await FindJobAsync(db, caller, id, ct);
        if (job is null)
            return Problems.JobNotFound(id);
        var spec = job.Spec();
        int samples = request?.Samples ?? spec.Evaluation?.Samples ?? EvaluationPlan.DefaultSamples(spec.Plan.Model);
        int max = options.Value.MaxSamples;
        if (samples < EvaluationRules.MinSamples || samples > max)
            return Problems.Invalid(
                "samples",
                $"Must be from {EvaluationRules.MinSamples} to {max} (Gan:Evaluation:MaxSamples)."
            );
        var number = step.Best ? job.BestStep : step.Number;
        if (number is null || !await db.Checkpoints.AnyAsync(c => c.JobId == id && c.Step == number, ct))
            return GeneratorLookup.NoCheckpoint(id, step);
        var row = await EvaluationRequests.QueueAsync(db, hangfire, job, number.Value, samples, ct);
        var answer = EvaluationResponse.From(row, job.BestStep, spec.Evaluation?.Samples);
        return row.Status == EvaluationStatus.Succeeded
            ? TypedResults.Ok(answer)
            : TypedResults.Accepted(answer.Links.Self, answer);
    }

    private static Task<TrainingJob?> FindJobAsync(GanDbContext db, Caller caller, Guid id, CancellationToken ct) =>
        db.Jobs.AsNoTracking().OwnedBy(caller).SingleOrDefaultAsync(j => j.Id == id, ct);
}
