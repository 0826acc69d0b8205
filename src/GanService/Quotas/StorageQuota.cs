using GanService.Hosting;
using GanService.Jobs;
using GanService.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Quotas;

/// <summary>
/// Per-owner quotas on stored bytes (checkpoints and datasets) and on active jobs, checked before anything is
/// stored or queued (docs/reliability.md#budgets).
/// </summary>
public static class StorageQuota
{
    /// <summary>Bytes the owner's checkpoints and uploaded datasets take.</summary>
    public static async Task<long> StoredBytesAsync(GanDbContext db, string? owner, CancellationToken ct)
    {
        long checkpoints = await db
            .Checkpoints.Where(c => db.Jobs.Any(j => j.Id == c.JobId && j.Owner == owner))
            .SumAsync(c => (long?)c.SizeBytes, ct)
            ?? 0;
        long datasets = await db.Datasets.Where(d => d.Owner == owner).SumAsync(d => (long?)d.SizeBytes, ct) ?? 0;
        return checkpoints + datasets;
    }

    /// <summary>The problem for an owner who may not submit another job, or null.</summary>
    public static async Task<ProblemHttpResult?> CheckSubmitAsync(
        GanDbContext db,
        string owner,
        QuotaOptions quotas,
        CancellationToken ct
    )
    {
        if (quotas.MaxActiveJobs > 0)
        {
            int active = await db.Jobs.CountAsync(
                j => j.Owner == owner && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running),
                ct
            );
            if (active >= quotas.MaxActiveJobs)
                return Exceeded(
                    "The active-jobs quota is reached.",
                    "Gan:Quotas:MaxActiveJobs",
                    $"You have {active} queued or running jobs; the quota is {quotas.MaxActiveJobs}. "
                        + "Wait for one to finish or cancel one.",
                    StatusCodes.Status429TooManyRequests
                );
        }
        return await CheckBytesAsync(db, owner, 0, quotas, ct);
    }

    /// <summary>The problem for an owner who may not store <paramref name="adding"/> more bytes, or null.</summary>
    public static async Task<ProblemHttpResult?> CheckBytesAsync(
        GanDbContext db,
        string owner,
        long adding,
        QuotaOptions quotas,
        CancellationToken ct
    )
    {
        if (quotas.MaxStoredBytes <= 0)
            return null;
        long stored = await StoredBytesAsync(db, owner, ct);
        // Adding bytes may fill the quota exactly; a job (which will add checkpoints) needs room left.
        if (adding > 0 ? stored + adding <= quotas.MaxStoredBytes : stored < quotas.MaxStoredBytes)
            return null;
        return Exceeded(
            "The stored-bytes quota is reached.",
            "Gan:Quotas:MaxStoredBytes",
            $"Your checkpoints and datasets take {stored} bytes{(adding > 0 ? $", {adding} more were sent" : "")}; "
                + $"the quota is {quotas.MaxStoredBytes} bytes. Delete jobs or datasets you no longer need.",
            StatusCodes.Status403Forbidden
        );
    }

    private static ProblemHttpResult Exceeded(string title, string quota, string detail, int status) =>
        TypedResults.Problem(
            title: title,
            detail: detail,
            statusCode: status,
            extensions: new Dictionary<string, object?> { ["quota"] = quota }
        );
}

/// <summary>
/// A checkpoint that would take its owner past <c>Gan:Quotas:MaxStoredBytes</c>: the job stops there.
/// </summary>
public sealed class StorageQuotaExceededException(string message) : Exception(message)
{
    /// <summary>Refuses the checkpoint when the owner's stored bytes plus it would pass the quota.</summary>
    public static async Task ThrowIfOverAsync(
        GanDbContext db,
        Guid jobId,
        long step,
        long adding,
        QuotaOptions quotas,
        CancellationToken ct
    )
    {
        if (quotas.MaxStoredBytes <= 0)
            return;
        var owner = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Owner).SingleAsync(ct);
        long stored = await StorageQuota.StoredBytesAsync(db, owner, ct);
        if (stored + adding > quotas.MaxStoredBytes)
            throw new StorageQuotaExceededException(
                $"Stopped at step {step}: its checkpoint ({adding} bytes) would "
                    + $"take the owner's stored checkpoints and datasets ({stored} bytes) past the quota of "
                    + $"{quotas.MaxStoredBytes} bytes (Gan:Quotas:MaxStoredBytes). The earlier checkpoints are kept."
            );
    }
}
