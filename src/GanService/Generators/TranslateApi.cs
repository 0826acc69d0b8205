using GanService.Auth;
using GanService.Checkpoints;
using GanService.Datasets;
using GanService.Gan.Data;
using GanService.Gan.Data.Import;
using GanService.Gan.Families;
using GanService.Gan.Imaging;
using GanService.Gan.Runtime;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace GanService.Generators;

/// <param name="Image">A PNG or JPEG image; it is resized (centre-cropped) to the generator's size.</param>
public sealed record TranslateForm(IFormFile Image);

public static class TranslateApi
{
    private static readonly string[] Parts = ["image"];

    public static RouteHandlerBuilder MapTranslate(this IEndpointRouteBuilder routes) =>
        routes
            .MapPost("/api/generators/{jobId:guid}/translate", Translate)
            .WithTags("Generators")
            .WithName("Translate")
            .AllowAnonymous()
            .RatedAsSampling()
            .WithSummary("Translate an image with an image-to-image generator (pix2pix, cyclegan)")
            .WithDescription(
                "multipart/form-data with the image in part `image`; it gets the same limits as dataset uploads. "
                    + "Answers the translated PNG, from the newest checkpoint or the one at `step`; a CycleGAN takes "
                    + "`direction=AtoB` (default) or `BtoA`."
            )
            .Accepts<TranslateForm>("multipart/form-data")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .DisableAntiforgery();

    private static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> Translate(
        Guid jobId,
        HttpRequest request,
        Caller caller,
        GanDbContext db,
        ICheckpointStore store,
        GeneratorCache cache,
        InferenceThreads renderer,
        RenderPermits permits,
        IOptions<GanOptions> options,
        IOptions<ImportLimits> importLimits,
        CancellationToken ct,
        [FromQuery] CheckpointStep? step = null,
        [FromQuery] string? direction = null
    )
    {
        var found = await GeneratorLookup.FindAsync(db, caller, jobId, step, ct);
        if (found is null)
            return Problems.JobNotFound(jobId);
        var model = JobMapping.Spec(jobId, found.Recipe).Plan.Model;
        var family = ModelFamily.Of(model);
        if (!family.Translates)
            return Problems.Invalid(
                "jobId",
                $"Job {jobId} trains a {model.Family}, which generates from noise: use samples.png or image.png."
            );
        var way = direction?.Trim() ?? "AtoB";
        if (
            !way.Equals("AtoB", StringComparison.OrdinalIgnoreCase)
            && !way.Equals("BtoA", StringComparison.OrdinalIgnoreCase)
        )
            return Problems.Invalid("direction", "Use AtoB or BtoA.");
        bool backward = way.Equals("BtoA", StringComparison.OrdinalIgnoreCase);
        if (backward && !family.TranslatesBothWays)
            return Problems.Invalid("direction", $"A {model.Family} generator translates A to B only.");
        if (found.Checkpoint is not { } chosen)
            return GeneratorLookup.NoCheckpoint(jobId, step);

        byte[] pixels;
        try
        {
            long most = options.Value.TranslateMaxBytes;
            await using var upload = await DatasetUpload.ReadAsync(request, most, Parts, ct);
            var streams = upload.OpenAll("image");
            if (streams.Count != 1)
                return Problems.Invalid("image", "Send exactly one image in the part 'image'.");
            // The part was spooled to a file within the body's limit, so its length is known and bounded.
            await using var stream = streams[0];
            var encoded = new byte[stream.Length];
            await stream.ReadExactlyAsync(encoded, ct);
            pixels = new ImageDecoder(importLimits.Value).Decode(
                encoded,
                upload.FileName ?? "image",
                model.ImageSize,
                model.Channels,
                FitMode.Crop
            );
        }
        catch (DatasetImportException e)
        {
            var field = e.Field == "file" ? "image" : e.Field;
            return e.TooLarge
                ? Problems.Naming(
                    StatusCodes.Status413PayloadTooLarge,
                    "The image is too large.",
                    e.Message,
                    field,
                    e.Message
                )
                : Problems.Invalid(field, e.Message);
        }

        // The permit covers the load and the render, not the upload before them.
        using var permit = await permits.AcquireAsync(ct);
        if (!permit.IsAcquired)
            return RateLimits.Busy(request.HttpContext);
        using var lease = await cache.GetOrLoadAsync(
            store,
            jobId,
            chosen.Step,
            reader => TranslationSampler.Load(reader, torch.CPU, backward),
            ct,
            backward ? "BtoA" : "AtoB"
        );
        if (lease is null)
            return await GeneratorLookup.UnloadableAsync(db, jobId, chosen.Step, "", ct);
        var sampler = lease.As<TranslationSampler>();
        var png = await renderer.RunAsync(() => sampler.TranslateToPng(pixels), ct);
        return TypedResults.File(png, "image/png");
    }
}
