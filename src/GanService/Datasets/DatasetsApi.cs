using GanService.Auth;
using GanService.Gan.Data;
using GanService.Gan.Data.Import;
using GanService.Gan.Imaging;
using GanService.Hosting;
using GanService.Idempotency;
using GanService.Jobs;
using GanService.Persistence;
using GanService.Quotas;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace GanService.Datasets;

public static class DatasetsApi
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
                "multipart/form-data: an archive of PNG/JPEG images (zip, tar, tar.gz; class folders label, A/ B/ pair, trainA/ trainB/ are unpaired), IDX files (parts images and labels) or CIFAR batches. The same content with the same options is one dataset (200 with the existing one). An Idempotency-Key header makes retries safe."
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

    private static async Task<
        Results<Created<DatasetResponse>, Ok<DatasetResponse>, ValidationProblem, ProblemHttpResult>
    > Upload(
        HttpRequest request,
        Caller caller,
        GanDbContext db,
        IOptions<DatasetLimits> limits,
        IOptions<ImportLimits> importLimits,
        IOptions<QuotaOptions> quotas,
        CancellationToken ct
    )
    {
        var (key, keyError) = IdempotencyKeys.Read(request);
        if (keyError is not null)
            return keyError;
        try
        {
            await using var upload = await DatasetUpload.ReadAsync(
                request,
                limits.Value.MaxUploadBytes,
                DatasetUpload.DatasetParts,
                importLimits.Value.MaxParts,
                ct
            );
            var hash = upload.Fingerprint();
            if (key is not null && await IdempotencyKeys.FindAsync(db, caller.Owner, "datasets", key, ct) is { } prior)
                return await Replay(prior, hash, key, caller, db, request.HttpContext, ct);
            var (format, options, errors) = UploadOptions.Parse(upload);
            if (errors.Count > 0)
                return TypedResults.ValidationProblem(errors, title: "The upload options are invalid.");
            var part = format == UploadFormats.Idx ? "images" : "file";
            var files = upload.OpenAll(part);
            var labels = format == UploadFormats.Idx ? upload.OpenAll("labels") : [];
            try
            {
                if (files.Count == 0)
                    return TypedResults.ValidationProblem(
                        new Dictionary<string, string[]> { [part] = ["Required: the file to import."] }
                    );
                var importer = new DatasetImporter(importLimits.Value);
                var result = await Task.Run(() => importer.Import(format, files, labels, options), ct);
                return await Store(
                    result,
                    upload,
                    format,
                    caller,
                    new Idempotent(key, hash),
                    db,
                    quotas.Value,
                    request.HttpContext,
                    ct
                );
            }
            finally
            {
                foreach (var stream in files.Concat(labels))
                    await stream.DisposeAsync();
            }
        }
        catch (DatasetImportException e)
        {
            return e.TooLarge
                ? TypedResults.Problem(
                    title: "The upload is too large.",
                    detail: e.Message,
                    statusCode: StatusCodes.Status413PayloadTooLarge,
                    extensions: new Dictionary<string, object?>
                    {
                        ["errors"] = new Dictionary<string, string[]> { [e.Field] = [e.Message] },
                    }
                )
                : TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { [e.Field] = [e.Message] },
                    title: "The dataset cannot be imported."
                );
        }
    }

    private static async Task<
        Results<Created<DatasetResponse>, Ok<DatasetResponse>, ValidationProblem, ProblemHttpResult>
    > Store(
        ImportResult result,
        DatasetUpload upload,
        string format,
        Caller caller,
        Idempotent idempotent,
        GanDbContext db,
        QuotaOptions quotas,
        HttpContext http,
        CancellationToken ct
    )
    {
        {
            var bytes = result.Dataset.Serialize();
            var sha = Gan.Checkpoints.CheckpointBundle.Sha256(bytes);
            if (
                await db
                    .Datasets.AsNoTracking()
                    .Where(d => d.Owner == caller.Owner && d.Sha256 == sha)
                    .Select(Summary)
                    .SingleOrDefaultAsync(ct) is
                { } existing
            )
            {
                if (idempotent.Key is not null)
                    await Remember(db, caller, idempotent, existing.Id, StatusCodes.Status200OK, ct);
                return TypedResults.Ok(existing.ToResponse(result.Skipped));
            }
            if (await StorageQuota.CheckBytesAsync(db, caller.Owner, bytes.LongLength, quotas, ct) is { } overQuota)
                return overQuota;

            var header = result.Dataset.Header;
            var counts = result.Dataset.ClassCounts();
            var dataset = new Dataset
            {
                Id = Guid.CreateVersion7(),
                Owner = caller.Owner,
                Name =
                    upload.Fields.GetValueOrDefault("name") is { Length: > 0 } n ? n
                    : upload.FileName is { Length: > 0 and <= 200 } file && InputRules.IsPlainText(file) ? file
                    : format,
                Format = header.Format,
                Kind = header.Kind,
                ImageSize = header.ImageSize,
                Channels = header.Channels,
                ItemCount = header.Count,
                ItemCountB = header.CountB,
                Sha256 = sha,
                SizeBytes = bytes.LongLength,
                Bytes = bytes,
                Classes = DatasetMapping.SerializeClasses(
                    header.Classes.Select((c, i) => new ClassCount(c, counts[i])).ToList()
                ),
                CreatedAt = DateTimeOffset.UtcNow,
            };
            db.Datasets.Add(dataset);
            if (idempotent.Key is not null)
                db.IdempotencyKeys.Add(
                    IdempotencyKeys.Record(
                        caller.Owner,
                        "datasets",
                        idempotent.Key,
                        idempotent.Hash,
                        dataset.Id,
                        StatusCodes.Status201Created
                    )
                );
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (idempotent.Key is not null && IdempotencyKeys.IsDuplicate(e))
            {
                db.ChangeTracker.Clear();
                if (await IdempotencyKeys.FindAsync(db, caller.Owner, "datasets", idempotent.Key, ct) is { } winner)
                    return await Replay(winner, idempotent.Hash, idempotent.Key, caller, db, http, ct);
                throw;
            }
            return TypedResults.Created($"/api/datasets/{dataset.Id}", dataset.ToResponse(result.Skipped));
        }
    }

    private sealed record Idempotent(string? Key, string Hash);

    private static async Task Remember(
        GanDbContext db,
        Caller caller,
        Idempotent idempotent,
        Guid id,
        int status,
        CancellationToken ct
    )
    {
        db.IdempotencyKeys.Add(
            IdempotencyKeys.Record(caller.Owner, "datasets", idempotent.Key!, idempotent.Hash, id, status)
        );
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (IdempotencyKeys.IsDuplicate(e))
        {
            db.ChangeTracker.Clear(); // a concurrent retry recorded the same outcome first
        }
    }

    private static async Task<
        Results<Created<DatasetResponse>, Ok<DatasetResponse>, ValidationProblem, ProblemHttpResult>
    > Replay(
        IdempotencyRecord prior,
        string hash,
        string key,
        Caller caller,
        GanDbContext db,
        HttpContext http,
        CancellationToken ct
    )
    {
        if (prior.RequestHash != hash)
            return IdempotencyKeys.Mismatch(key);
        var dataset = await db
            .Datasets.AsNoTracking()
            .OwnedBy(caller)
            .Where(d => d.Id == prior.ResourceId)
            .Select(Summary)
            .SingleOrDefaultAsync(ct);
        if (dataset is null)
            return NotFound(prior.ResourceId); // deleted since
        IdempotencyKeys.MarkReplayed(http.Response);
        return prior.StatusCode == StatusCodes.Status201Created
            ? TypedResults.Created($"/api/datasets/{dataset.Id}", dataset.ToResponse())
            : TypedResults.Ok(dataset.ToResponse());
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
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["count"] = ["Must be between 1 and 256."] }
            );
        var row = await db
            .Datasets.AsNoTracking()
            .OwnedBy(caller)
            .Where(d => d.Id == id)
            .Select(d => new { d.Bytes, d.Sha256 })
            .SingleOrDefaultAsync(ct);
        if (row is null)
            return NotFound(id);
        var png = DatasetPreview.Render(StoredDataset.Deserialize(row.Bytes), count, seed);
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
