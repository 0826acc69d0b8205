using GanService.Auth;
using GanService.Checkpoints;
using GanService.Gan.Checkpoints;
using GanService.Gan.Export;
using GanService.Gan.Runtime;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GanService.Generators;

/// <summary>
/// A generator exported for PyTorch (docs/export.md): the zip <see cref="GeneratorExport"/> writes, from the newest
/// checkpoint or the one at <c>step</c>, for anyone who may sample the generator.
/// </summary>
public static class ExportApi
{
    /// <summary>The <c>format</c> values: the weights as safetensors (the default) or a PyTorch state_dict.</summary>
    private static readonly Dictionary<string, ExportFormat> Formats = new(StringComparer.OrdinalIgnoreCase)
    {
        ["safetensors"] = ExportFormat.SafeTensors,
        ["pt"] = ExportFormat.PyTorch,
    };

    public static RouteHandlerBuilder MapExport(this IEndpointRouteBuilder routes) =>
        routes
            .MapGet("/api/generators/{jobId:guid}/export.zip", Export)
            .WithTags("Generators")
            .WithName("ExportGenerator")
            .AllowAnonymous()
            .RatedAsSampling()
            .WithSummary("The generator for PyTorch: safetensors weights, config.json and a gan_generator.py module")
            .WithDescription(
                "From the newest checkpoint, or the one at `step` (a number or `best`). The zip holds "
                    + "generator.safetensors (prefixes `generator.`, `ema.` where the run kept a moving average, "
                    + "`generator_ba.` for CycleGAN's B-to-A generator), config.json (the layer configuration and "
                    + "sampling conventions), gan_generator.py (the network in PyTorch; its sample(count, seed) "
                    + "gives samples.png's images for that seed) and a README. `format=pt` gives the weights as a "
                    + "PyTorch state_dict file (generator.pt, for torch.load) instead of safetensors (the default). "
                    + "Public generators need no key."
            )
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

    private static async Task<Results<FileStreamHttpResult, ValidationProblem, ProblemHttpResult>> Export(
        Guid jobId,
        Caller caller,
        GanDbContext db,
        ICheckpointStore store,
        InferenceThreads renderer,
        ExportPermits exports,
        RenderPermits permits,
        HttpContext http,
        CancellationToken ct,
        [FromQuery] CheckpointStep? step = null,
        [FromQuery] string? format = null
    )
    {
        if (step is { Best: false, Number: < 0 })
            return Problems.Invalid("step", "Must be zero or positive, or best.");
        var weights = ExportFormat.SafeTensors;
        if (format is not null && !Formats.TryGetValue(format, out weights))
            return Problems.Invalid("format", "Use safetensors (the default) or pt (a PyTorch state_dict).");
        var found = await GeneratorLookup.FindAsync(db, caller, jobId, step, ct);
        if (found is null)
            return Problems.JobNotFound(jobId);
        if (found.Checkpoint is not { } chosen)
            return NoCheckpoint(jobId, step);

        // The work is bounded before it starts: an export slot and a render permit, the generators of one checkpoint
        // (whose bundle the job's checkpoint budget bounded at submit), and a zip spooled to a temporary file.
        using var exporting = await exports.AcquireAsync(ct);
        if (!exporting.IsAcquired)
            return RateLimits.Busy(http, "export slot");
        using var permit = await permits.AcquireAsync(ct);
        if (!permit.IsAcquired)
            return RateLimits.Busy(http);
        var zip = new FileStream(
            Path.GetTempFileName(),
            FileMode.Create,
            FileAccess.ReadWrite,
            FileShare.None,
            1 << 16,
            FileOptions.DeleteOnClose
        );
        try
        {
            await using var bundle = await store.OpenBundleAsync(jobId, chosen.Step, ct);
            if (bundle is null)
            {
                await zip.DisposeAsync();
                return await GeneratorLookup.UnloadableAsync(db, jobId, chosen.Step, "", ct);
            }
            await renderer.RunAsync(
                () =>
                {
                    using var reader = CheckpointBundle.Open(bundle);
                    GeneratorExport.Write(reader, zip, weights);
                    return true;
                },
                ct
            );
        }
        catch (Exception e) when (e is CorruptCheckpointException or CheckpointGoneException)
        {
            // Removed while it was read (a delete, or retention) is a 404, as for sampling; damaged stays a 409.
            await zip.DisposeAsync();
            return await GeneratorLookup.UnloadableAsync(db, jobId, chosen.Step, "; export an earlier step", ct);
        }
        catch
        {
            await zip.DisposeAsync();
            throw;
        }
        zip.Position = 0;
        http.Response.Headers["X-Checkpoint-Step"] = chosen.Step.ToString();
        // A pinned step never changes; the newest or best one may.
        var scope = SamplingPipeline.CacheScope(found.Public);
        http.Response.Headers.CacheControl = step is { Best: false }
            ? $"{scope}, max-age=31536000, immutable"
            : $"{scope}, no-cache";
        var name = JobMapping.Spec(jobId, found.Recipe).Plan.Model.Family;
        return TypedResults.File(zip, "application/zip", $"{name}-{jobId}-step-{chosen.Step}.zip");
    }

    /// <summary>
    /// As the other generator endpoints answer, but naming <c>step</c> where the caller asked for one that is
    /// not there, so a client can tell which parameter to change.
    /// </summary>
    private static ProblemHttpResult NoCheckpoint(Guid jobId, CheckpointStep? step)
    {
        var answer = GeneratorLookup.NoCheckpoint(jobId, step);
        if (step is null)
            return answer;
        var problem = answer.ProblemDetails;
        return Problems.Naming(problem.Status!.Value, problem.Title!, problem.Detail!, "step", problem.Detail!);
    }
}
