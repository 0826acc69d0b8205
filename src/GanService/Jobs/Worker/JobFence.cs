using GanService.Persistence;
using Microsoft.EntityFrameworkCore;

namespace GanService.Jobs.Worker;

/// <summary>Checks a <see cref="JobLease"/> inside the caller's transaction.</summary>
public static class JobFence
{
    /// <summary>
    /// Locks the job row until the transaction ends and throws <see cref="LeaseLostException"/> unless the lease's
    /// attempt is still the job's newest and the job is still running. A starting attempt takes the same lock, so a
    /// write and a takeover can never interleave.
    /// </summary>
    public static async Task HoldAsync(GanDbContext db, JobLease lease, CancellationToken ct)
    {
        var held = await db
            .Database.SqlQuery<int>(
                $"""
                SELECT 1 AS "Value" FROM gan.training_jobs
                WHERE "Id" = {lease.JobId} AND "Attempts" = {lease.Attempt} AND "Status" = 'Running'
                FOR UPDATE
                """
            )
            .ToListAsync(ct);
        if (held.Count == 0)
            throw new LeaseLostException(lease);
    }
}
