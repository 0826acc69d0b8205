using System.Security.Cryptography;
using System.Text;
using GanService.Auth;
using GanService.Checkpoints;
using GanService.Gan.Imaging;
using GanService.Gan.Sampling;
using GanService.Jobs;
using GanService.Persistence;
using GanService.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using TorchSharp;

namespace GanService.Generators;

public static class SamplesApi
{
    public const int MaxCount = 256, MaxColumns = 64;

    public static RouteGroupBuilder MapSamples(this IEndpointRouteBuilder routes)
    {
        // Anonymous callers may reach these (browsers' img tags); each handler admits them to public generators only.
        var group = routes.MapGroup("/api/generators/{jobId:guid}").WithTags("Generators").AllowAnonymous().LimitedAsSampling();
        group.MapGet("/samples.png", Samples).WithName("GetSamples")
            .WithSummary("A PNG grid of generated images")
            .WithDescription("From the newest checkpoint, or the one at `step`. The same generator, seed and parameters always give the same bytes; seeded URLs are cacheable (strong ETag). Without a seed one is drawn and returned in the X-Seed header.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png").Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/image.png", Image).WithName("GetImage")
            .WithSummary("One generated image as a PNG")
            .Produces(StatusCodes.Status200OK, contentType: "image/png").Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static Task<Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>> Samples(
        Guid jobId, [AsParameters] SamplingServices services, HttpContext http, CancellationToken ct,
        [FromQuery] int count = 16, [FromQuery] int? columns = null, [FromQuery] long? seed = null, [FromQuery] long? step = null,
        [FromQuery] string? label = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (count is < 1 or > MaxCount) errors["count"] = [$"Must be between 1 and {MaxCount}."];
        int cols = columns ?? (int)Math.Ceiling(Math.Sqrt(Math.Clamp(count, 1, MaxCount)));
        if (cols is < 1 or > MaxColumns) errors["columns"] = [$"Must be between 1 and {MaxColumns}."];
        return Render(jobId, services, http, errors, "grid", count, cols, seed, step, label, ct);
    }

    private static Task<Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>> Image(
        Guid jobId, [AsParameters] SamplingServices services, HttpContext http, CancellationToken ct,
        [FromQuery] long? seed = null, [FromQuery] long? step = null, [FromQuery] string? label = null) =>
        Render(jobId, services, http, [], "image", 1, 1, seed, step, label, ct);

    private static async Task<Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>> Render(
        Guid jobId, SamplingServices services, HttpContext http, Dictionary<string, string[]> errors,
        string kind, int count, int columns, long? seed, long? step, string? label, CancellationToken ct)
    {
        if (seed < 0) errors["seed"] = ["Must be zero or positive."];
        if (step < 0) errors["step"] = ["Must be zero or positive."];
        var labels = ParseLabels(label, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var db = services.Db;
        var job = await db.Jobs.AsNoTracking().SampleableBy(services.Caller).Where(j => j.Id == jobId).SingleOrDefaultAsync(ct);
        if (job is null) return Problems.JobNotFound(jobId);
        var model = job.Spec().Model;
        if (model.Translation)
            errors["jobId"] = [$"Job {jobId} trains an image-to-image generator ({model.Family}): POST an image to /api/generators/{jobId}/translate."];
        else if (labels is not null && !model.Conditional)
            errors["label"] = [$"This generator ({model.Family}) is not class-conditional; leave label out."];
        else if (labels is not null && labels.FirstOrDefault(l => l >= model.Classes, -1) is var bad && bad >= 0)
            errors["label"] = [$"Class {bad} does not exist; this generator knows classes 0 to {model.Classes - 1}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var checkpoints = db.Checkpoints.AsNoTracking().Where(c => c.JobId == jobId);
        var chosen = await (step is null ? checkpoints.OrderByDescending(c => c.Step) : checkpoints.Where(c => c.Step == step))
            .Select(c => new { c.Step, c.Sha256 }).FirstOrDefaultAsync(ct);
        if (chosen is null)
            return step is null
                ? Problems.Conflict("The generator has no checkpoint yet.",
                    $"Job {jobId} has not written a checkpoint; sample again once its first checkpoint is listed.")
                : Problems.NotFound("No such checkpoint.", $"Job {jobId} has no checkpoint at step {step}.");

        long usedSeed = seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        var tag = Tag(chosen.Sha256, kind, count, columns, usedSeed, label);
        var etag = new EntityTagHeaderValue($"\"{tag}\"");
        var headers = http.Response.Headers;
        headers["X-Seed"] = usedSeed.ToString();
        headers["X-Checkpoint-Step"] = chosen.Step.ToString();
        // Pinned to a step and a seed, the bytes can never change; without a step, a newer checkpoint may appear.
        headers.CacheControl = seed is null ? "no-store" : step is not null ? "public, max-age=31536000, immutable" : "public, no-cache";
        if (seed is not null && http.Request.GetTypedHeaders().IfNoneMatch.Any(t => t.Compare(etag, useStrongComparison: true)))
        {
            headers.ETag = etag.ToString();
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        if (seed is not null && services.Pngs.TryGet(tag) is { } cached) return TypedResults.File(cached, "image/png", entityTag: etag);

        using var lease = await services.Cache.GetOrLoadAsync(services.Store, jobId, chosen.Step,
            (bundle, sha) => GeneratorSampler.Load(bundle, torch.CPU, sha), ct);
        if (lease is null)
            return Problems.Conflict("The checkpoint is damaged.",
                $"The checkpoint of job {jobId} at step {chosen.Step} fails its checksum; sample an earlier step.");
        // One row per listed class: row r shows class labels[r % n].
        var perImage = labels?.Count > 0 ? Enumerable.Range(0, count).Select(i => labels[i / columns % labels.Count]).ToList() : null;
        var png = lease.As<GeneratorSampler>().SamplePng(usedSeed, count, columns, padding: kind == "image" ? 0 : ImageGrid.DefaultPadding, perImage);
        if (seed is not null) services.Pngs.Add(tag, png);
        return TypedResults.File(png, "image/png", entityTag: seed is null ? null : etag);
    }

    private static string Tag(string checkpointSha, string kind, int count, int columns, long seed, string? label) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{checkpointSha}|{kind}|{count}|{columns}|{seed}|{label}")))[..32];

    /// <summary><c>label=3</c>, or <c>label=0,1,2</c> for one row per listed class.</summary>
    private static List<int>? ParseLabels(string? label, Dictionary<string, string[]> errors)
    {
        if (label is null) return null;
        var parts = label.Split(',', StringSplitOptions.TrimEntries);
        var labels = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, out var value) || value < 0 || value > 1000)
            {
                errors["label"] = [$"'{label}' is not a class number or a comma-separated list of them."];
                return null;
            }
            labels.Add(value);
        }
        return labels;
    }

    public sealed record SamplingServices(GanDbContext Db, ICheckpointStore Store, GeneratorCache Cache, PngCache Pngs, Caller Caller);
}
