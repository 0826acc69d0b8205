using GanService.Auth;
using GanService.Datasets;
using GanService.Idempotency;
using GanService.Persistence;
using GanService.Quotas;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Jobs;

/// <summary>
/// Submitting a job: validate, check quotas, store it Queued, enqueue, and replay idempotent retries.
/// </summary>
public static partial class JobsApi
{
    private static async Task<Results<Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> CreateJob(
        CreateJobRequest request,
        Caller caller,
        HttpContext http,
        JobRequestValidator validator,
        DatasetCatalog catalog,
        GanDbContext db,
        IBackgroundJobClient hangfire,
        IOptions<QuotaOptions> quotas,
        CancellationToken ct
    )
    {
        if (await StorageQuota.CheckSubmitAsync(db, caller.Owner, quotas.Value, ct) is { } overQuota)
            return overQuota;
        var (key, keyError) = IdempotencyKeys.Read(http.Request);
        if (keyError is not null)
            return keyError;
        var hash = IdempotencyKeys.Hash(request);
        if (key is not null && await IdempotencyKeys.FindAsync(db, caller.Owner, "jobs", key, ct) is { } prior)
            return await Replay(prior, hash, key, db, http, ct);

        var uploaded = Guid.TryParse(request.Dataset?.Trim(), out var datasetId)
            ? await db
                .Datasets.AsNoTracking()
                .OwnedBy(caller)
                .Where(d => d.Id == datasetId)
                .Select(d => new Dataset
                {
                    Id = d.Id,
                    Name = d.Name,
                    Format = d.Format,
                    Kind = d.Kind,
                    ItemCount = d.ItemCount,
                    Sha256 = d.Sha256,
                    Classes = d.Classes,
                    Bytes = Array.Empty<byte>(),
                })
                .SingleOrDefaultAsync(ct)
            : null;
        var (spec, errors) = validator.Validate(request, uploaded);
        if (spec is not null && request.InitFrom is { } initFrom)
        {
            var from = await Transfer.InitFromRules.ResolveAsync(
                initFrom,
                spec.Plan,
                caller,
                db,
                (field, message) => errors[field] = [message],
                ct
            );
            spec = from is null ? null : spec with { InitFrom = from };
        }
        if (spec is null)
            return TypedResults.ValidationProblem(errors, title: "The job request is invalid.");
        var now = DateTimeOffset.UtcNow;
        var job = new TrainingJob
        {
            Id = Guid.CreateVersion7(),
            Name = spec.Name,
            Owner = caller.Owner,
            Public = request.Public ?? false,
            Status = JobStatus.Queued,
            Recipe = JobMapping.Serialize(spec),
            Dataset = spec.Dataset,
            DatasetSha256 = uploaded?.Sha256 ?? catalog.Sha256(spec.Dataset),
            Seed = spec.Plan.Seed,
            TotalSteps = spec.Plan.Steps,
            Device = spec.Device,
            Queue = JobQueues.For(spec.Device),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Jobs.Add(job);
        if (key is not null)
            db.IdempotencyKeys.Add(
                IdempotencyKeys.Record(caller.Owner, "jobs", key, hash, job.Id, StatusCodes.Status202Accepted)
            );
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (key is not null && UniqueViolation.Is(e))
        {
            // A concurrent request with the same key won: answer what it created.
            db.ChangeTracker.Clear();
            return await Replay(
                (await IdempotencyKeys.FindAsync(db, caller.Owner, "jobs", key, ct))!,
                hash,
                key,
                db,
                http,
                ct
            );
        }
        try
        {
            job.HangfireJobId = hangfire.EnqueueTraining(job);
        }
        catch
        {
            // Nothing half written: a job no worker will ever see is removed again, with its idempotency record.
            db.Jobs.Remove(job);
            if (key is not null)
                await db
                    .IdempotencyKeys.Where(r => r.Owner == caller.Owner && r.Operation == "jobs" && r.Key == key)
                    .ExecuteDeleteAsync(CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/api/jobs/{job.Id}", job.ToResponse());
    }

    private static async Task<Results<Accepted<JobResponse>, ValidationProblem, ProblemHttpResult>> Replay(
        IdempotencyRecord prior,
        string hash,
        string key,
        GanDbContext db,
        HttpContext http,
        CancellationToken ct
    )
    {
        if (prior.RequestHash != hash)
            return IdempotencyKeys.Mismatch(key);
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == prior.ResourceId, ct);
        IdempotencyKeys.MarkReplayed(http.Response);
        return TypedResults.Accepted($"/api/jobs/{job.Id}", job.ToResponse());
    }
}
