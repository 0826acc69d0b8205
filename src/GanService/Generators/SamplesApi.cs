using GanService.Checkpoints;
using GanService.Gan.Families;
using GanService.Gan.Imaging;
using GanService.Gan.Training;
using GanService.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Generators;

public static class SamplesApi
{
    public const int MaxCount = 256,
        MaxColumns = 64;

    public static RouteGroupBuilder MapSamples(this IEndpointRouteBuilder routes)
    {
        // Anonymous callers may reach these (browsers' img tags); each handler admits them to public generators only.
        var group = routes
            .MapGroup("/api/generators/{jobId:guid}")
            .WithTags("Generators")
            .AllowAnonymous()
            .LimitedAsSampling();
        group
            .MapGet("/samples.png", Samples)
            .WithName("GetSamples")
            .WithSummary("A PNG grid of generated images")
            .WithDescription(
                "From the newest checkpoint, or the one at `step`. The same generator, seed and parameters always "
                    + "give the same bytes; seeded URLs are cacheable (strong ETag). Without a seed one is drawn and "
                    + "returned in the X-Seed header. "
                    + ControlsHelp
            )
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group
            .MapGet("/image.png", Image)
            .WithName("GetImage")
            .WithSummary("One generated image as a PNG")
            .WithDescription(ControlsHelp)
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    internal const string ControlsHelp =
        "`label` (conditional families: a class, or a comma-separated list for one row per class); `truncation` "
        + "(biggan: the threshold beyond which latent entries are redrawn, e.g. 0.5; stylegan: psi toward the "
        + "average w, 0 to 2); stylegan only: `noise=random|const`, `mix=SEED2&mixFrom=LAYER` (the second "
        + "seed's styles from that layer on). A parameter the generator's family lacks is a 400 naming it.";

    private static Task<
        Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>
    > Samples(
        Guid jobId,
        [AsParameters] SamplingServices services,
        HttpContext http,
        CancellationToken ct,
        [FromQuery] int count = 16,
        [FromQuery] int? columns = null,
        [FromQuery] long? seed = null,
        [FromQuery] CheckpointStep? step = null,
        [FromQuery] string? label = null,
        [FromQuery] double? truncation = null,
        [FromQuery] string? noise = null,
        [FromQuery] long? mix = null,
        [FromQuery] int? mixFrom = null
    )
    {
        var errors = new Dictionary<string, string[]>();
        if (count is < 1 or > MaxCount)
            errors["count"] = [$"Must be between 1 and {MaxCount}."];
        int cols = columns ?? (int)Math.Ceiling(Math.Sqrt(Math.Clamp(count, 1, MaxCount)));
        if (cols is < 1 or > MaxColumns)
            errors["columns"] = [$"Must be between 1 and {MaxColumns}."];
        return Render(
            jobId,
            services,
            http,
            errors,
            "grid",
            count,
            cols,
            seed,
            step,
            label,
            truncation,
            noise,
            mix,
            mixFrom,
            ct
        );
    }

    private static Task<
        Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>
    > Image(
        Guid jobId,
        [AsParameters] SamplingServices services,
        HttpContext http,
        CancellationToken ct,
        [FromQuery] long? seed = null,
        [FromQuery] CheckpointStep? step = null,
        [FromQuery] string? label = null,
        [FromQuery] double? truncation = null,
        [FromQuery] string? noise = null,
        [FromQuery] long? mix = null,
        [FromQuery] int? mixFrom = null
    ) => Render(jobId, services, http, [], "image", 1, 1, seed, step, label, truncation, noise, mix, mixFrom, ct);

    private static Task<
        Results<FileContentHttpResult, StatusCodeHttpResult, ValidationProblem, ProblemHttpResult>
    > Render(
        Guid jobId,
        SamplingServices services,
        HttpContext http,
        Dictionary<string, string[]> errors,
        string kind,
        int count,
        int columns,
        long? seed,
        CheckpointStep? step,
        string? label,
        double? truncation,
        string? noise,
        long? mix,
        int? mixFrom,
        CancellationToken ct
    )
    {
        var labels = SamplingPipeline.ParseList(label, "label", 1000, 1000, errors)?.Select(l => (int)l).ToList();
        var controls = SamplingPipeline.Controls(truncation, noise, mix, mixFrom, errors);
        var parameters = $"{kind}|{count}|{columns}|{label}|{controls}";
        // One row per listed class: row r shows class labels[r % n].
        var perImage =
            labels?.Count > 0
                ? Enumerable.Range(0, count).Select(i => labels[i / columns % labels.Count]).ToList()
                : null;
        return SamplingPipeline.ServeAsync(
            jobId,
            services,
            http,
            errors,
            step,
            seeded: true,
            seed,
            parameters,
            "image/png",
            new Produced("count", count),
            (model, problems) =>
            {
                CheckLabels(labels, model, problems);
                SamplingPipeline.CheckControls(controls, model, problems);
            },
            (sampler, usedSeed, token) =>
                sampler.SamplePng(
                    usedSeed,
                    count,
                    columns,
                    kind == "image" ? 0 : ImageGrid.DefaultPadding,
                    perImage,
                    controls,
                    token
                ),
            ct
        );
    }

    internal static void CheckLabels(IReadOnlyList<int>? labels, ModelRecipe model, Dictionary<string, string[]> errors)
    {
        if (labels is not null && !ModelFamily.Of(model).Conditional)
            errors["label"] = [$"This generator ({model.Family}) is not class-conditional; leave label out."];
        else if (labels is not null && labels.FirstOrDefault(l => l >= model.Classes, -1) is var bad && bad >= 0)
            errors["label"] = [$"Class {bad} does not exist; this generator knows classes 0 to {model.Classes - 1}."];
    }
}
