using GanService.Auth;
using GanService.Gan.Families;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Generators;

/// <summary>
/// What a generator is, for anyone who may sample it: a public generator's page needs its family, size and classes
/// without the key that the job itself (its owner's business) needs.
/// </summary>
public sealed record GeneratorResponse(
    Guid Id,
    string Name,
    bool Public,
    string Family,
    int ImageSize,
    int Channels,
    int Classes,
    bool Translates,
    long? Step,
    long? BestStep,
    GeneratorLinks Links
);

/// <summary>Noise families' sampling URLs, or a translator's; the other kind's are null.</summary>
public sealed record GeneratorLinks(string? Samples, string? Image, string? Interpolation, string? Translate);

public static class GeneratorsApi
{
    public static RouteHandlerBuilder MapGenerators(this IEndpointRouteBuilder routes) =>
        routes
            .MapGet("/api/generators/{jobId:guid}", Describe)
            .WithTags("Generators")
            .AllowAnonymous()
            .WithName("GetGenerator")
            .WithSummary("A generator's family, image size, classes and checkpoints (public ones need no key)")
            .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<GeneratorResponse>, ProblemHttpResult>> Describe(
        Guid jobId,
        Caller caller,
        GanDbContext db,
        CancellationToken ct
    )
    {
        var found = await db
            .Jobs.AsNoTracking()
            .SampleableBy(caller)
            .Where(j => j.Id == jobId)
            .Select(j => new { Job = j, Step = db.Checkpoints.Where(c => c.JobId == j.Id).Max(c => (long?)c.Step) })
            .SingleOrDefaultAsync(ct);
        if (found is null)
            return Problems.NotFound("No such generator.", $"There is no generator {jobId} that you may sample.");
        var (job, model) = (found.Job, found.Job.Spec().Plan.Model);
        bool translates = ModelFamily.Of(model).Translates;
        var self = $"/api/generators/{jobId}";
        return TypedResults.Ok(
            new GeneratorResponse(
                job.Id,
                job.Name,
                job.Public,
                model.Family,
                model.ImageSize,
                model.Channels,
                model.Classes,
                translates,
                found.Step,
                job.BestStep,
                new GeneratorLinks(
                    translates ? null : $"{self}/samples.png",
                    translates ? null : $"{self}/image.png",
                    translates ? null : $"{self}/interpolation.gif",
                    translates ? $"{self}/translate" : null
                )
            )
        );
    }
}
