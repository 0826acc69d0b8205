using GanService.Auth;
using GanService.Gan.Data;
using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace GanService.Datasets;

/// <summary>The dataset endpoints: their routes and the reads; the upload is in <c>DatasetsApi.Upload.cs</c>.</summary>
public static partial class DatasetsApi
{
    public static RouteGroupBuilder MapDatasets(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/datasets").WithTags("Datasets").RequireAuthorization();
        group
            .MapPost("/", Upload)
            .WithName("UploadDataset")
            .RequireRateLimiting(RateLimits.Uploads)
            .WithSummary("Import a dataset from an upload")
            .WithDescription(
                "multipart/form-data: an archive of PNG/JPEG images (zip, tar, tar.gz; class folders label, A/ B/ "
                    + "pair, trainA/ trainB/ are unpaired), IDX files (parts images and labels) or CIFAR batches. The "
                    + "same content with the same options is one dataset (200 with the existing one). An "
                    + "Idempotency-Key header makes retries safe."
            )
            .Accepts<DatasetUploadForm>("multipart/form-data")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .DisableAntiforgery();
        group.MapGet("/", List).WithName("ListDatasets").WithSummary("Uploaded datasets, newest first");
        group
            .MapGet("/{id:guid}", Get)
            .WithName("GetDataset")
            .WithSummary("A dataset's format, size, classes and checksum")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group
            .MapGet("/{id:guid}/preview.png", Preview)
            .WithName("GetDatasetPreview")
            .WithSummary("A grid of real items (paired data: A next to B; unpaired: A items, then B items)")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group
            .MapDelete("/{id:guid}", Delete)
            .WithName("DeleteDataset")
            .WithSummary("Delete a dataset no queued or running job uses")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Ok<PagedList<DatasetResponse>>, ValidationProblem>> List(
        Caller caller,
        GanDbContext db,
        CancellationToken ct,
        [FromQuery] int page = 1,
        [FromQuery] int pageSize = 20
    )
    {
        var errors = new Dictionary<string, string[]>();
        InputRules.CheckPage(page, pageSize, errors);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        int total = await db.Datasets.OwnedBy(caller).CountAsync(ct);
        var rows = await db
            .Datasets.AsNoTracking()
            .OwnedBy(caller)
            .OrderByDescending(d => d.CreatedAt)
            .Skip((page - 1) * pageSize)
            .Take(pageSize)
            .Select(Summary)
            .ToListAsync(ct);
        return TypedResults.Ok(
            new PagedList<DatasetResponse>(rows.Select(d => d.ToResponse()).ToList(), page, pageSize, total)
        );
    }

    private static async Task<Results<Ok<DatasetResponse>, ProblemHttpResult>> Get(
        Guid id,
        Caller caller,
        GanDbContext db,
        CancellationToken ct
    ) =>
        await db.Datasets.AsNoTracking().OwnedBy(caller).Where(d => d.Id == id).Select(Summary).SingleOrDefaultAsync(ct)
            is { } d
            ? TypedResults.Ok(d.ToResponse())
            : NotFound(id);

    private static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> Preview(
        Guid id,
        Caller caller,
        GanDbContext db,
        HttpContext http,
        CancellationToken ct,
        [FromQuery] int count = 64,
        [FromQuery] long seed = 0
    )
    {
        if (count is < 1 or > 256)
            return Problems.Invalid("count", "Must be between 1 and 256.");
        if (!await db.Datasets.OwnedBy(caller).AnyAsync(d => d.Id == id, ct))
            return NotFound(id);
        // Deleted between the check and the read: as gone as it would be a moment later.
        if (await DatasetPreviews.RenderAsync(db, id, count, seed, ct) is not { } png)
            return NotFound(id);
        // Content-addressed, and only its owner's to see: no shared cache may keep it.
        http.Response.Headers.CacheControl = "private, max-age=31536000, immutable";
        return TypedResults.File(png, "image/png");
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        Guid id,
        Caller caller,
        GanDbContext db,
        CancellationToken ct
    )
    {
        if (!await db.Datasets.OwnedBy(caller).AnyAsync(d => d.Id == id, ct))
            return NotFound(id);
        var key = id.ToString();
        if (
            await db.Jobs.AnyAsync(
                j => j.Dataset == key && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running),
                ct
            )
        )
            return Problems.Conflict(
                "The dataset is in use.",
                $"A queued or running job trains on dataset {id}; cancel it or wait for it to finish."
            );
        await db.Datasets.Where(d => d.Id == id).ExecuteDeleteAsync(ct);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        Problems.NotFound("No such dataset.", $"There is no dataset with id {id}.");

    /// <summary>Everything but the bytes, so listing never loads the data.</summary>
    private static readonly System.Linq.Expressions.Expression<Func<Dataset, Dataset>> Summary = d => new Dataset
    {
        Id = d.Id,
        Name = d.Name,
        Format = d.Format,
        Kind = d.Kind,
        ImageSize = d.ImageSize,
        Channels = d.Channels,
        ItemCount = d.ItemCount,
        ItemCountB = d.ItemCountB,
        Classes = d.Classes,
        Sha256 = d.Sha256,
        SizeBytes = d.SizeBytes,
        Owner = d.Owner,
        Bytes = Array.Empty<byte>(),
        CreatedAt = d.CreatedAt,
    };
}
