using System.Security.Cryptography;
using System.Text;
using GanService.Auth;
using GanService.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Models;
using GanService.Gan.Runtime;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using TorchSharp;

namespace GanService.Generators;

/// <summary>The services every sampling endpoint uses.</summary>
public sealed record SamplingServices(
    GanDbContext Db,
    ICheckpointStore Store,
    GeneratorCache Cache,
    PngCache Pngs,
    InferenceThreads Renderer,
    Caller Caller,
    IOptions<GanOptions> Options
);

/// <summary>What a request will produce: <paramref name="Images"/> images, bounded through the query field
/// <paramref name="Field"/> (docs/reliability.md#budgets).</summary>
public readonly record struct Produced(string Field, int Images);

/// <summary>
/// What samples, grids, interpolations and mixing tables share: the caller may sample the job, the job generates
/// from noise, the parameters suit its family, a checkpoint is chosen; then ETag revalidation, the encoded-image
/// cache, the generator cache, and the render on an inference thread. Deterministic requests (given their seed, or
/// naming their seeds in <c>parameters</c>, when <c>seeded</c> is false) get a strong ETag over the checkpoint's hash
/// and every parameter.
/// </summary>
public static class SamplingPipeline
{
    public static async Task<
        Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>
    > ServeAsync(
        Guid jobId,
        SamplingServices services,
        HttpContext http,
        Dictionary<string, string[]> errors,
        CheckpointStep? step,
        bool seeded,
        long? seed,
        string parameters,
        string contentType,
        Produced produced,
        Action<ModelRecipe, Dictionary<string, string[]>> checkModel,
        Func<GeneratorSampler, long, CancellationToken, byte[]> render,
        CancellationToken ct
    )
    {
        if (step is { Best: false, Number: < 0 })
            errors["step"] = ["Must be zero or positive, or best."];
        if (seed < 0)
            errors["seed"] = ["Must be zero or positive."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var found = await GeneratorLookup.FindAsync(services.Db, services.Caller, jobId, step, ct);
        if (found is null)
            return Problems.JobNotFound(jobId);
        var model = JobMapping.Spec(jobId, found.Recipe).Plan.Model;
        if (!ModelFamily.Of(model).SamplesFromNoise)
            errors["jobId"] =
            [
                $"Job {jobId} trains an image-to-image generator ({model.Family}): POST an image to "
                    + $"/api/generators/{jobId}/translate.",
            ];
        else
        {
            checkModel(model, errors);
            CheckBudget(produced, model, services.Options.Value.SamplingPixels, errors);
        }
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var chosen = found.Checkpoint;
        if (chosen is null)
            return GeneratorLookup.NoCheckpoint(jobId, step);

        bool deterministic = !seeded || seed is not null;
        long usedSeed = seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        var tag = Convert.ToHexStringLower(
            SHA256.HashData(Encoding.UTF8.GetBytes($"{chosen.Sha256}|{parameters}|{usedSeed}"))
        )[..32];
        var etag = new EntityTagHeaderValue($"\"{tag}\"");
        var headers = http.Response.Headers;
        if (seeded)
            headers["X-Seed"] = usedSeed.ToString();
        headers["X-Checkpoint-Step"] = chosen.Step.ToString();
        // Pinned to a step and a seed, the bytes can never change; without a step, a newer checkpoint may appear, and
        // the best one may change with the next evaluation.
        // Shared caches may keep only what anyone may see: a private generator's images are for its owner alone.
        var scope = CacheScope(found.Public);
        headers.CacheControl =
            !deterministic ? "no-store"
            : step is { Best: false } ? $"{scope}, max-age=31536000, immutable"
            : $"{scope}, no-cache";
        if (
            deterministic
            && http.Request.GetTypedHeaders().IfNoneMatch.Any(t => t.Compare(etag, useStrongComparison: true))
        )
        {
            headers.ETag = etag.ToString();
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        if (deterministic && services.Pngs.TryGet(tag) is { } cached)
            return TypedResults.File(cached, contentType, entityTag: etag);

        using var lease = await services.Cache.GetOrLoadAsync(
            services.Store,
            jobId,
            chosen.Step,
            reader => GeneratorSampler.Load(reader, torch.CPU),
            ct
        );
        if (lease is null)
            return await GeneratorLookup.UnloadableAsync(
                services.Db,
                jobId,
                chosen.Step,
                "; sample an earlier step",
                ct
            );
        var sampler = lease.As<GeneratorSampler>();
        var bytes = await services.Renderer.RunAsync(token => render(sampler, usedSeed, token), ct);
        if (deterministic)
            services.Pngs.Add(tag, bytes);
        return TypedResults.File(bytes, contentType, entityTag: deterministic ? etag : null);
    }

    /// <summary><c>public</c> where anyone may sample the generator, else <c>private</c>: for Cache-Control.</summary>
    public static string CacheScope(bool isPublic) => isPublic ? "public" : "private";

    /// <summary>
    /// Refuses, before any work, a request whose images hold more than <paramref name="pixels"/> values (images x
    /// side^2 x channels): what it costs in tensors and PNG bytes grows with that, not with the query's length.
    /// </summary>
    public static void CheckBudget(
        Produced produced,
        ModelRecipe model,
        long pixels,
        Dictionary<string, string[]> errors
    )
    {
        long each = (long)model.ImageSize * model.ImageSize * model.Channels;
        if (produced.Images * each <= pixels || errors.ContainsKey(produced.Field))
            return;
        errors[produced.Field] =
        [
            $"{produced.Images} images of {model.ImageSize}x{model.ImageSize}x{model.Channels} "
                + $"exceed this host's budget of {pixels} pixel values a request (Gan:SamplingPixels); "
                + $"this generator allows at most {Math.Max(0, pixels / each)} images.",
        ];
    }

    /// <summary>
    /// Reads the family controls from the query; a control the job's family lacks is reported at model check.
    /// </summary>
    public static SamplingControls Controls(
        double? truncation,
        string? noise,
        long? mix,
        int? mixFrom,
        Dictionary<string, string[]> errors
    )
    {
        NoiseMode? mode = null;
        if (noise is not null)
        {
            if (noise.Equals("random", StringComparison.OrdinalIgnoreCase))
                mode = NoiseMode.Random;
            else if (noise.Equals("const", StringComparison.OrdinalIgnoreCase))
                mode = NoiseMode.Constant;
            else
                errors["noise"] =
                [
                    "Use random (fresh noise from the seed) or const (the generator's fixed noise maps).",
                ];
        }
        if (truncation is { } t && !double.IsFinite(t))
            errors["truncation"] = ["Must be a finite number."];
        return new SamplingControls(truncation, mode, mix, mixFrom);
    }

    /// <summary>Adds the family's objections to the controls, under the query parameters' names.</summary>
    public static void CheckControls(SamplingControls controls, ModelRecipe model, Dictionary<string, string[]> errors)
    {
        foreach (var (field, message) in controls.Check(model))
            errors.TryAdd(field, [message]);
    }

    /// <summary>
    /// <c>3</c> or <c>0,1,2</c>: numbers from 0 to <paramref name="max"/>, at most <paramref name="most"/> of them.
    /// </summary>
    public static List<long>? ParseList(
        string? text,
        string field,
        long max,
        int most,
        Dictionary<string, string[]> errors
    )
    {
        if (text is null)
            return null;
        var values = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, out var value) || value < 0 || value > max || values.Count == most)
            {
                errors[field] = [$"'{text}' is not a comma-separated list of at most {most} numbers from 0 to {max}."];
                return null;
            }
            values.Add(value);
        }
        return values;
    }
}
