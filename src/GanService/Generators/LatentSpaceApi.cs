using GanService.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Imaging;
using GanService.Gan.Sampling;
using GanService.Gan.Training;
using GanService.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Generators;

/// <summary>
/// Walks through a generator's latent space: interpolations (PNG strip or animated GIF) and StyleGAN's mixing table.
/// </summary>
public static class LatentSpaceApi
{
    public const int MaxSteps = 64,
        MaxMixingSeeds = 8,
        GifFrameMilliseconds = 120;

    public static RouteGroupBuilder MapLatentSpace(this IEndpointRouteBuilder routes)
    {
        var group = routes
            .MapGroup("/api/generators/{jobId:guid}")
            .WithTags("Generators")
            .AllowAnonymous()
            .LimitedAsSampling();
        const string interpolation =
            "From seed `from`'s image to seed `to`'s in `steps` frames (2 to 64, default 8): spherical interpolation "
            + "of the Gaussian z, or linear in w for a stylegan (every frame with the same noise). A conditional "
            + "generator keeps one class, `label` (default 0). ";
        // One interpolation, two encodings: the same parameters and answers, only the bytes differ.
        (string Extension, bool Gif, string Name, string Summary, string Description)[] encodings =
        [
            (
                "png",
                false,
                "GetInterpolationPng",
                "A latent interpolation as a one-row PNG strip",
                interpolation + "`truncation` and `noise` as for samples.png."
            ),
            (
                "gif",
                true,
                "GetInterpolationGif",
                "The same interpolation as an animated GIF that loops",
                interpolation + $"Each frame shows for {GifFrameMilliseconds} ms."
            ),
        ];
        foreach (var (extension, gif, name, summary, description) in encodings)
            group
                .MapGet(
                    $"/interpolation.{extension}",
                    (
                        Guid jobId,
                        [AsParameters] SamplingServices services,
                        HttpContext http,
                        CancellationToken ct,
                        long? from,
                        long? to,
                        int? steps,
                        CheckpointStep? step,
                        string? label,
                        double? truncation,
                        string? noise
                    ) => Interpolate(jobId, services, http, from, to, steps, step, label, truncation, noise, gif, ct)
                )
                .WithName(name)
                .WithSummary(summary)
                .WithDescription(description)
                .Produces(StatusCodes.Status200OK, contentType: $"image/{extension}")
                .Produces(StatusCodes.Status304NotModified)
                .ProducesValidationProblem()
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict);
        group
            .MapGet("/mixing.png", Mixing)
            .WithName("GetStyleMixing")
            .WithSummary("StyleGAN's style-mixing table")
            .WithDescription(
                $"`rows` and `columns`: comma-separated seeds (1 to {MaxMixingSeeds} each). The top row shows the "
                    + "column seeds' images, the left column the row seeds'; each cell is its row seed's image with "
                    + "the column seed's styles from layer `mixFrom` on (low layers: coarse pose and shape; high "
                    + "layers: fine detail and colour). `truncation` and `noise` as for samples.png."
            )
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static Task<
        Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>
    > Interpolate(
        Guid jobId,
        SamplingServices services,
        HttpContext http,
        long? from,
        long? to,
        int? steps,
        CheckpointStep? step,
        string? label,
        double? truncation,
        string? noise,
        bool gif,
        CancellationToken ct
    )
    {
        var errors = new Dictionary<string, string[]>();
        if (from is null)
            errors["from"] = ["Required: the seed of the first image."];
        else if (from < 0)
            errors["from"] = ["Must be zero or positive."];
        if (to is null)
            errors["to"] = ["Required: the seed of the last image."];
        else if (to < 0)
            errors["to"] = ["Must be zero or positive."];
        int frames = steps ?? 8;
        if (frames is < 2 or > MaxSteps)
            errors["steps"] = [$"Must be between 2 and {MaxSteps}."];
        var labels = SamplingPipeline.ParseList(label, "label", 1000, 1, errors)?.Select(l => (int)l).ToList();
        var controls = SamplingPipeline.Controls(truncation, noise, null, null, errors);
        var parameters = $"interpolation|{from}|{to}|{frames}|{label}|{controls}|{(gif ? "gif" : "png")}";
        return SamplingPipeline.ServeAsync(
            jobId,
            services,
            http,
            errors,
            step,
            seeded: false,
            null,
            parameters,
            gif ? "image/gif" : "image/png",
            new Produced("steps", frames),
            (model, problems) =>
            {
                SamplesApi.CheckLabels(labels, model, problems);
                SamplingPipeline.CheckControls(controls, model, problems);
            },
            (sampler, _, token) =>
            {
                using var images = sampler.Interpolate(from!.Value, to!.Value, frames, labels, controls, token);
                return gif ? Animation.EncodeGif(images, GifFrameMilliseconds) : ImageGrid.EncodePng(images, frames);
            },
            ct
        );
    }

    private static Task<
        Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>
    > Mixing(
        Guid jobId,
        [AsParameters] SamplingServices services,
        HttpContext http,
        CancellationToken ct,
        [FromQuery] string? rows = null,
        [FromQuery] string? columns = null,
        [FromQuery] int? mixFrom = null,
        [FromQuery] CheckpointStep? step = null,
        [FromQuery] double? truncation = null,
        [FromQuery] string? noise = null
    )
    {
        var errors = new Dictionary<string, string[]>();
        var rowSeeds = SamplingPipeline.ParseList(rows ?? "1,2,3", "rows", long.MaxValue, MaxMixingSeeds, errors);
        var columnSeeds = SamplingPipeline.ParseList(
            columns ?? "4,5,6,7",
            "columns",
            long.MaxValue,
            MaxMixingSeeds,
            errors
        );
        var controls = SamplingPipeline.Controls(truncation, noise, null, null, errors);
        int layer = 0;
        var parameters = $"mixing|{rows}|{columns}|{mixFrom}|{controls}";
        // The table holds a blank corner, both seed lists and every cell; rows bound it as much as columns do.
        var cells = ((rowSeeds?.Count ?? 0) + 1) * ((columnSeeds?.Count ?? 0) + 1);
        return SamplingPipeline.ServeAsync(
            jobId,
            services,
            http,
            errors,
            step,
            seeded: false,
            null,
            parameters,
            "image/png",
            new Produced("rows", cells),
            (model, problems) =>
            {
                if (!ModelFamily.Of(model).MixesStyles)
                {
                    problems["jobId"] =
                    [
                        $"Job {jobId} trains a {model.Family}; style mixing needs a stylegan generator.",
                    ];
                    return;
                }
                layer = mixFrom ?? SamplingControls.DefaultMixFrom(model);
                // The seeds are checked above; the library judges the layer as it does for mix= on one image.
                SamplingPipeline.CheckControls(controls with { MixSeed = 0, MixFrom = layer }, model, problems);
            },
            (sampler, _, token) =>
            {
                using var table = sampler.MixingTable(rowSeeds!, columnSeeds!, layer, controls, token);
                return ImageGrid.EncodePng(table, columnSeeds!.Count + 1);
            },
            ct
        );
    }
}
