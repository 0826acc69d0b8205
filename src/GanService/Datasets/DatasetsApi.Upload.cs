using GanService.Auth;
using GanService.Gan.Data;
using GanService.Gan.Data.Import;
using GanService.Hosting;
using GanService.Idempotency;
using GanService.Persistence;
using GanService.Quotas;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Datasets;

/// <summary>
/// Uploading a dataset: read the form within its limits, import, store once, replay idempotent retries.
/// </summary>
public static partial class DatasetsApi
{
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
                    return Problems.Invalid(part, "Required: the file to import.");
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
                ? Problems.Naming(
                    StatusCodes.Status413PayloadTooLarge,
                    "The upload is too large.",
                    e.Message,
                    e.Field,
                    e.Message
                )
                : Problems.Invalid(e.Field, e.Message, "The dataset cannot be imported.");
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
            catch (DbUpdateException e) when (idempotent.Key is not null && UniqueViolation.Is(e))
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
        catch (DbUpdateException e) when (UniqueViolation.Is(e))
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
}
