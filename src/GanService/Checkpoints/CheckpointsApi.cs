using GanService.Auth;
using GanService.Generators;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace GanService.Checkpoints;

/// <summary>
/// A stored checkpoint; <c>Attempt</c> is the job attempt that wrote it (see <c>/api/jobs/{id}/attempts</c>).
/// <c>Best</c> marks the job's best checkpoint: the lowest Frechet distance among evaluations at the job's sample
/// count (<c>step=best</c> in any URL that takes a step). <c>Pinned</c>: retention never removes it.
/// </summary>
public sealed record CheckpointResponse(
    long Step,
    int Attempt,
    DateTimeOffset CreatedAt,
    long SizeBytes,
    string Sha256,
    bool Best,
    CheckpointLinks Links
)
{
    public bool Pinned { get; init; }

    public static CheckpointResponse For(
        Guid jobId,
        long step,
        int attempt,
        DateTimeOffset createdAt,
        long sizeBytes,
        string sha256,
        long? bestStep
    ) =>
        new(
            step,
            attempt,
            createdAt,
            sizeBytes,
            sha256,
            step == bestStep,
            new CheckpointLinks(
                $"/api/jobs/{jobId}/checkpoints/{step}/preview.png",
                $"/api/generators/{jobId}/samples.png?step={step}",
                $"/api/jobs/{jobId}/checkpoints/{step}/bundle.zip",
                $"/api/jobs/{jobId}/checkpoints/{step}/evaluation"
            )
        );
}

public sealed record CheckpointLinks(string Preview, string Samples, string Bundle, string Evaluation);

public static class CheckpointsApi
{
    public static RouteGroupBuilder MapCheckpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs/{id:guid}/checkpoints").WithTags("Checkpoints").RequireAuthorization();
        group
            .MapGet("/", ListCheckpoints)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListCheckpoints")
            .WithSummary("A job's checkpoints, oldest first, a page at a time (X-Total-Count, Link: next)");
        group
            .MapGet("/{step}/preview.png", GetPreview)
            .WithName("GetCheckpointPreview")
            .AllowAnonymous() // public generators' previews
            .WithSummary("The preview grid saved with a checkpoint (the fixed preview latents)")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group
            .MapGet("/{step}/bundle.zip", GetBundle)
            .WithName("GetCheckpointBundle")
            .WithSummary(
                "The checkpoint itself: a zip of manifest.json (with each entry's SHA-256), weights, optimizer and "
                    + "RNG states"
            )
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    /// <summary>Checkpoints per page; the default page holds every checkpoint a job may write by default.</summary>
    public const int MaxPage = 1000;

    private static async Task<
        Results<Ok<IReadOnlyList<CheckpointResponse>>, ValidationProblem, ProblemHttpResult>
    > ListCheckpoints(
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
        var job = await BestOfAsync(db, caller, id, ct);
        if (job is null)
            return Problems.JobNotFound(id);
        var rows = await db
            .Checkpoints.AsNoTracking()
            .Where(c => c.JobId == id)
            .OrderBy(c => c.Step)
            .Select(c => new
            {
                c.Step,
                c.Attempt,
                c.CreatedAt,
                c.SizeBytes,
                c.Sha256,
                c.Pinned,
            })
            .PageAsync(http, page, pageSize, ct);
        return TypedResults.Ok<IReadOnlyList<CheckpointResponse>>(
            rows.Select(c =>
                    CheckpointResponse.For(id, c.Step, c.Attempt, c.CreatedAt, c.SizeBytes, c.Sha256, job.BestStep) with
                    {
                        Pinned = c.Pinned,
                    }
                )
                .ToList()
        );
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetPreview(
        Guid id,
        CheckpointStep step,
        Caller caller,
        GanDbContext db,
        HttpContext http,
        CancellationToken ct
    )
    {
        var job = await db
            .Jobs.SampleableBy(caller)
            .Where(j => j.Id == id)
            .Select(j => new { j.Public, j.BestStep })
            .SingleOrDefaultAsync(ct);
        if (job is null)
            return Problems.JobNotFound(id);
        var number = step.Best ? job.BestStep : step.Number;
        var preview = await db
            .Checkpoints.AsNoTracking()
            .Where(c => c.JobId == id && c.Step == number)
            .Select(c => new { c.PreviewPng, c.Sha256 })
            .SingleOrDefaultAsync(ct);
        if (preview is null)
            return GeneratorLookup.NoCheckpoint(id, step);
        // A checkpoint never changes once written, so its preview may be cached for good (the best one may change);
        // by shared caches only where anyone may see it.
        http.Response.Headers.CacheControl =
            $"{SamplingPipeline.CacheScope(job.Public)}, " + (step.Best ? "no-cache" : "max-age=31536000, immutable");
        return TypedResults.File(
            preview.PreviewPng,
            "image/png",
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{preview.Sha256}\"")
        );
    }

    /// <summary>
    /// The bundle streamed from PostgreSQL to the response, so that downloading a large checkpoint holds one buffer
    /// of it in memory rather than the whole bundle.
    /// </summary>
    private static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> GetBundle(
        Guid id,
        CheckpointStep step,
        Caller caller,
        GanDbContext db,
        HttpContext http,
        CancellationToken ct
    )
    {
        var job = await BestOfAsync(db, caller, id, ct);
        if (job is null)
            return Problems.JobNotFound(id);
        var number = step.Best ? job.BestStep : step.Number;
        var found = await db
            .Checkpoints.AsNoTracking()
            .Where(c => c.JobId == id && c.Step == number)
            .Select(c => new
            {
                c.Step,
                c.Sha256,
                c.SizeBytes,
            })
            .SingleOrDefaultAsync(ct);
        if (found is null)
            return GeneratorLookup.NoCheckpoint(id, step);
        http.Response.ContentLength = found.SizeBytes;
        return TypedResults.Stream(
            body => CheckpointIo.CopyBundleAsync(db, id, found.Step, found.SizeBytes, body, ct),
            "application/zip",
            $"job-{id}-step-{found.Step}.zip",
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{found.Sha256}\"")
        );
    }

    /// <summary>The caller's job's best step (null before any evaluation), or null when there is no such job.</summary>
    private static Task<BestOf?> BestOfAsync(GanDbContext db, Caller caller, Guid id, CancellationToken ct) =>
        db.Jobs.OwnedBy(caller).Where(j => j.Id == id).Select(j => new BestOf(j.BestStep)).SingleOrDefaultAsync(ct);

    private sealed record BestOf(long? BestStep);
}
